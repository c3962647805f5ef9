import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { JobNotFound } from '../../lib/jobs/errors.ts'
import type { ChunkOutcome, JobFailure } from '../../lib/jobs/job.ts'
import type { JobStore } from '../../lib/jobs/ports.ts'

const AT = '2026-11-26T10:00:00.000Z'

export function outcome(chunk: number, ok: number, error = 0): ChunkOutcome {
  return {
    chunk,
    counter: { ok, not_found: 0, error },
    unchanged: 0,
    bytes: ok * 100,
    failures: Array.from({ length: error }, (_, i) => ({ code: `c${chunk}-${i}`, status: 'error' as const, reason: 'http_500' as const, attempts: 3, httpStatus: 500, message: 'origin answered HTTP 500' })),
  }
}

async function allFailures(store: JobStore, jobId: string): Promise<JobFailure[][]> {
  const pages: JobFailure[][] = []
  for await (const page of store.failuresOf(jobId)) pages.push([...page])
  return pages
}

/** A store whose next count of a chunk into its job dies just before that write, or just after it. */
export interface CrashingStore {
  readonly store: JobStore
  crashAtCount(this: void, when: 'before' | 'after'): void
}

/**
 * What every JobStore promises (lib/jobs/ports.ts), as scenarios any store is run through: the
 * in-memory one in the unit tests, the DynamoDB one against a local DynamoDB, so the fake the
 * unit tests lean on is held to what the real store does, crashes between its writes included.
 */
export function describeJobStoreContract(name: string, storeOf: () => JobStore, crashingStoreOf: () => CrashingStore): void {
  async function newJob(store: JobStore, chunks: number, createdAt = AT) {
    const jobId = randomUUID()
    await store.create({ jobId, total: chunks * 10, duplicates: 0, chunks, prefix: 'flags/', maxOriginRequests: 8, createdAt })
    return jobId
  }

  describe(`JobStore contract: ${name}`, () => {
    it('stores a job queued, reads it back as GET /jobs shows it, and has none for an unknown id', async () => {
      const store = storeOf()
      const jobId = randomUUID()

      expect(await store.create({ jobId, total: 25, duplicates: 2, chunks: 3, prefix: 'flags/', maxOriginRequests: 8, createdAt: AT })).toBe(true)

      expect(await store.get(jobId)).toEqual({
        jobId,
        state: 'queued',
        prefix: 'flags/',
        total: 25,
        chunks: 3,
        chunksDone: 0,
        counter: { ok: 0, not_found: 0, error: 0 },
        unchanged: 0,
        bytes: 0,
        createdAt: AT,
        updatedAt: AT,
        finishedAt: null,
        reportKey: null,
      })
      expect(await store.get(randomUUID())).toBeUndefined()
    })

    it('refuses to create a job whose id is stored already, changing nothing', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      const again = await store.create({ jobId, total: 99, duplicates: 0, chunks: 9, prefix: 'other/', maxOriginRequests: 1, createdAt: '2026-11-27T00:00:00.000Z' })

      expect(again).toBe(false)
      expect(await store.get(jobId)).toMatchObject({ total: 20, chunks: 2, prefix: 'flags/', createdAt: AT })
    })

    it('marks a job running once: a later call keeps it running and changes nothing else', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 1)

      await store.markRunning(jobId, '2026-11-26T10:01:00.000Z')
      const first = await store.get(jobId)
      await store.markRunning(jobId, '2026-11-26T10:02:00.000Z')

      expect(first).toMatchObject({ state: 'running' })
      expect(await store.get(jobId)).toEqual(first)
    })

    it('counts a chunk once when it is recorded again, and the first outcome stands', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)
      await store.markRunning(jobId, AT)

      const first = await store.recordChunk(jobId, outcome(0, 8, 2), AT)
      const again = await store.recordChunk(jobId, outcome(0, 10), '2026-11-26T10:03:00.000Z')

      expect(first).toMatchObject({ state: 'running', chunksDone: 1, counter: { ok: 8, not_found: 0, error: 2 }, bytes: 800 })
      expect(again).toEqual(first)
      expect(await store.chunkRecorded(jobId, 0)).toBe(true)
      expect(await store.chunkRecorded(jobId, 1)).toBe(false)
      expect((await allFailures(store, jobId)).flat().map((failure) => failure.code)).toEqual(['c0-0', 'c0-1'])
    })

    it('counts a chunk once when ten workers record it at the same moment', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.recordChunk(jobId, outcome(1, 10 - i, i), AT)))

      expect(new Set(results.map((job) => job.chunksDone))).toEqual(new Set([1]))
      const job = await store.get(jobId)
      expect(job).toMatchObject({ chunksDone: 1 })
      // Whichever outcome was recorded first is the one counted, whole.
      expect((job?.counter.ok ?? 0) + (job?.counter.error ?? 0)).toBe(10)
      expect((await allFailures(store, jobId)).flat()).toHaveLength(job?.counter.error ?? -1)
    })

    it('adds every chunk into its job and keeps the counters summing to what was recorded', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 3)

      await store.recordChunk(jobId, outcome(2, 9, 1), AT)
      await store.recordChunk(jobId, outcome(0, 10), AT)
      const last = await store.recordChunk(jobId, outcome(1, 7, 3), '2026-11-26T10:04:00.000Z')

      expect(last).toMatchObject({ state: 'queued', chunksDone: 3, counter: { ok: 26, not_found: 0, error: 4 }, bytes: 2600, updatedAt: '2026-11-26T10:04:00.000Z' })
    })

    it('pages the failures of a job in chunk order, whatever order the chunks were recorded in', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 12)

      for (const chunk of [11, 3, 0, 10, 2]) await store.recordChunk(jobId, outcome(chunk, 9, 1), AT)

      expect((await allFailures(store, jobId)).flat().map((failure) => failure.code)).toEqual(['c0-0', 'c2-0', 'c3-0', 'c10-0', 'c11-0'])
      expect(await allFailures(store, randomUUID())).toEqual([])
    })

    it('marks a job done once, with its report', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 1)
      await store.recordChunk(jobId, outcome(0, 10), AT)

      const done = await store.finish(jobId, `reports/${jobId}.csv`, '2026-11-26T10:05:00.000Z')
      const again = await store.finish(jobId, 'reports/other.csv', '2026-11-26T10:09:00.000Z')

      expect(done).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 10 }, finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${jobId}.csv` })
      expect(again).toMatchObject({ state: 'done', finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${jobId}.csv` })
    })

    it('leaves a finished job as it is when one of its chunks is recorded again', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 1)
      await store.recordChunk(jobId, outcome(0, 10), AT)
      const done = await store.finish(jobId, `reports/${jobId}.csv`, '2026-11-26T10:05:00.000Z')

      expect(await store.recordChunk(jobId, outcome(0, 0, 10), '2026-11-26T10:06:00.000Z')).toEqual(done)
    })

    it('lists the most recent jobs first', async () => {
      const store = storeOf()
      const ids = []
      for (const minute of ['10', '11', '12']) ids.push(await newJob(store, 1, `2030-01-01T00:${minute}:00.000Z`))

      expect((await store.recent(2)).map((job) => job.jobId)).toEqual([ids[2], ids[1]])
    })

    it('keeps the outcome of a chunk whose count died, and counts that outcome once when the chunk is recorded again', async () => {
      const { store, crashAtCount } = crashingStoreOf()
      const jobId = await newJob(store, 2)
      crashAtCount('before')

      await expect(store.recordChunk(jobId, outcome(0, 8, 2), AT)).rejects.toThrow()
      const crashed = await store.get(jobId)
      const recovered = await store.recordChunk(jobId, outcome(0, 0, 10), AT)

      expect(await store.chunkRecorded(jobId, 0)).toBe(true)
      expect(crashed).toMatchObject({ chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 } })
      expect(recovered).toMatchObject({ chunksDone: 1, counter: { ok: 8, not_found: 0, error: 2 } })
      expect((await allFailures(store, jobId)).flat().map((failure) => failure.code)).toEqual(['c0-0', 'c0-1'])
    })

    it('counts nothing more for a chunk whose count was written just before the crash', async () => {
      const { store, crashAtCount } = crashingStoreOf()
      const jobId = await newJob(store, 2)
      crashAtCount('after')

      await expect(store.recordChunk(jobId, outcome(1, 10), AT)).rejects.toThrow()
      const recovered = await store.recordChunk(jobId, outcome(1, 0, 10), AT)

      expect(recovered).toMatchObject({ chunksDone: 1, counter: { ok: 10, not_found: 0, error: 0 } })
    })

    it('says JobNotFound for a chunk of a job it does not have', async () => {
      const store = storeOf()
      const jobId = randomUUID()

      await expect(store.markRunning(jobId, AT)).rejects.toBeInstanceOf(JobNotFound)
      await expect(store.recordChunk(jobId, outcome(0, 1), AT)).rejects.toBeInstanceOf(JobNotFound)
    })
  })
}
