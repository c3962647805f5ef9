import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { JobNotFound } from '../../lib/jobs/errors.ts'
import type { JobFailure, NewJob, PartOutcome } from '../../lib/jobs/job.ts'
import type { JobStore } from '../../lib/jobs/ports.ts'

const AT = '2026-11-26T10:00:00.000Z'

/** A part's outcome: `ok` codes stored, `error` codes failed, `rest` codes left to the next part. */
export function outcome(chunk: number, ok: number, error = 0, { part = 0, rest = 0 } = {}): PartOutcome {
  return {
    chunk,
    part,
    counter: { ok, not_found: 0, error },
    unchanged: 0,
    bytes: ok * 100,
    failures: Array.from({ length: error }, (_, i) => ({ code: `c${chunk}.${part}-${i}`, status: 'error' as const, reason: 'http_500' as const, attempts: 3, httpStatus: 500, message: 'origin answered HTTP 500' })),
    rest: Array.from({ length: rest }, (_, i) => `r${chunk}.${part}-${i}`),
  }
}

/** A job as the planner stores it, of `chunks` chunks of ten codes. */
export function newJobOf(chunks: number, fields: Partial<NewJob> = {}): NewJob {
  const jobId = randomUUID()
  return {
    jobId,
    total: chunks * 10,
    duplicates: 0,
    chunks,
    prefix: 'flags/',
    baseUrl: 'https://origin.test/flags',
    concurrency: 4,
    force: false,
    maxOriginRequests: 8,
    planKey: `plans/${jobId}/p.jsonl`,
    planBytes: chunks * 100,
    createdAt: AT,
    ...fields,
  }
}

async function allFailures(store: JobStore, jobId: string): Promise<JobFailure[]> {
  const failures: JobFailure[] = []
  for await (const page of store.failuresOf(jobId)) failures.push(...page)
  return failures
}

/** A store whose next recording of a part dies just before its one write, or just after it. */
export interface CrashingStore {
  readonly store: JobStore
  crashAtPart(this: void, when: 'before' | 'after'): void
}

/**
 * What every JobStore promises (lib/jobs/ports.ts), as scenarios any store is run through: the
 * in-memory one in the unit tests, the DynamoDB one against a local DynamoDB, so the fake the
 * unit tests lean on is held to what the real store does, crashes around its writes included.
 */
export function describeJobStoreContract(name: string, storeOf: () => JobStore, crashingStoreOf: () => CrashingStore): void {
  async function newJob(store: JobStore, chunks: number, createdAt = AT) {
    const job = newJobOf(chunks, { createdAt })
    await store.create(job)
    return job.jobId
  }

  describe(`JobStore contract: ${name}`, () => {
    it('stores a job queued, reads it back as GET /jobs shows it and as its workers need it, and has none for an unknown id', async () => {
      const store = storeOf()
      const job = newJobOf(3, { total: 25, duplicates: 2 })

      expect(await store.create(job)).toBe(true)

      const status = {
        jobId: job.jobId,
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
      }
      expect(await store.get(job.jobId)).toEqual(status)
      expect(await store.record(job.jobId)).toEqual({
        ...status,
        baseUrl: job.baseUrl,
        concurrency: 4,
        force: false,
        planKey: job.planKey,
        planBytes: job.planBytes,
        maxOriginRequests: 8,
        chunksSent: 0,
        fanOutAt: AT,
      })
      expect(await store.get(randomUUID())).toBeUndefined()
      expect(await store.record(randomUUID())).toBeUndefined()
    })

    it('refuses to create a job whose id is stored already, changing nothing', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      const again = await store.create(newJobOf(9, { jobId, total: 99, prefix: 'other/', createdAt: '2026-11-27T00:00:00.000Z' }))

      expect(again).toBe(false)
      expect(await store.get(jobId)).toMatchObject({ total: 20, chunks: 2, prefix: 'flags/', createdAt: AT })
    })

    it('notes how far the fan-out got and when, never moving back', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 300)

      await store.fannedOut(jobId, 200, '2026-11-26T10:01:00.000Z')
      await store.fannedOut(jobId, 100, '2026-11-26T10:02:00.000Z')

      expect(await store.record(jobId)).toMatchObject({ state: 'queued', chunksSent: 200, fanOutAt: '2026-11-26T10:01:00.000Z' })
    })

    it('counts a part once when it is recorded again, and the first outcome stands', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      const first = await store.recordPart(jobId, outcome(0, 8, 2), AT)
      const again = await store.recordPart(jobId, outcome(0, 10), '2026-11-26T10:03:00.000Z')

      expect([first, again]).toEqual(['counted', 'counted before'])
      expect(await store.get(jobId)).toMatchObject({ state: 'running', chunksDone: 1, counter: { ok: 8, not_found: 0, error: 2 }, bytes: 800, updatedAt: AT })
      expect(await store.partOf(jobId, 0, 0)).toEqual(outcome(0, 8, 2))
      expect(await store.partOf(jobId, 1, 0)).toBeUndefined()
      expect((await allFailures(store, jobId)).map((failure) => failure.code)).toEqual(['c0.0-0', 'c0.0-1'])
    })

    it('counts a part once when ten workers record it at the same moment', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.recordPart(jobId, outcome(1, 10 - i, i), AT)))

      expect(results.filter((result) => result === 'counted')).toHaveLength(1)
      const job = await store.get(jobId)
      expect(job).toMatchObject({ chunksDone: 1 })
      // Whichever outcome was recorded first is the one counted, whole.
      expect((job?.counter.ok ?? 0) + (job?.counter.error ?? 0)).toBe(10)
      expect(await allFailures(store, jobId)).toHaveLength(job?.counter.error ?? -1)
    })

    it('counts the parts of a chunk cut short as they come, and the chunk as done with its last part', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      await store.recordPart(jobId, outcome(0, 6, 1, { rest: 3 }), AT)
      const afterFirst = await store.get(jobId)
      await store.recordPart(jobId, outcome(0, 2, 0, { part: 1, rest: 1 }), AT)
      await store.recordPart(jobId, outcome(0, 1, 0, { part: 2 }), AT)
      await store.recordPart(jobId, outcome(1, 9, 1), '2026-11-26T10:04:00.000Z')

      expect(afterFirst).toMatchObject({ chunksDone: 0, counter: { ok: 6, not_found: 0, error: 1 } })
      expect(await store.get(jobId)).toMatchObject({ chunksDone: 2, counter: { ok: 18, not_found: 0, error: 2 }, bytes: 1800, updatedAt: '2026-11-26T10:04:00.000Z' })
      expect((await store.partOf(jobId, 0, 1))?.rest).toEqual(['r0.1-0'])
    })

    it('changes nothing for a chunk its job does not have', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)

      expect(await store.recordPart(jobId, outcome(2, 10), AT)).toBe('not in plan')
      expect(await store.recordPart(jobId, outcome(7, 10), AT)).toBe('not in plan')

      expect(await store.get(jobId)).toMatchObject({ chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 } })
      expect(await store.partOf(jobId, 2, 0)).toBeUndefined()
    })

    it('records a dead-letter count of a part only once no worker holds it, and never lists the hold among the failures', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 2)
      await store.leasePart(jobId, 0, 0, '2026-11-26T10:05:00.000Z')

      const held = await store.recordPart(jobId, outcome(0, 0, 10), AT, { unleasedAt: '2026-11-26T10:04:59.000Z' })
      const free = await store.recordPart(jobId, outcome(0, 0, 10), AT, { unleasedAt: '2026-11-26T10:05:00.000Z' })
      await store.leasePart(jobId, 1, 0, '2026-11-26T10:09:00.000Z')
      // A worker's own count does not wait for its hold.
      const worker = await store.recordPart(jobId, outcome(1, 10), AT)

      expect([held, free, worker]).toEqual(['leased', 'counted', 'counted'])
      expect(await store.get(jobId)).toMatchObject({ chunksDone: 2, counter: { ok: 10, not_found: 0, error: 10 } })
      expect(await allFailures(store, jobId)).toHaveLength(10)
    })

    it('pages the failures of a job in chunk order, whatever order the parts were recorded in, past a page of parts', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 40)
      const chunks = [39, 3, 0, 10, 2, ...Array.from({ length: 28 }, (_, i) => 11 + i)]

      for (const chunk of chunks) await store.recordPart(jobId, outcome(chunk, 9, 1), AT)
      await store.recordPart(jobId, outcome(3, 0, 1, { part: 1 }), AT)

      const codes = (await allFailures(store, jobId)).map((failure) => failure.code)
      expect(codes).toEqual([...chunks].sort((a, b) => a - b).flatMap((chunk) => (chunk === 3 ? ['c3.0-0', 'c3.1-0'] : [`c${chunk}.0-0`])))
      expect(await allFailures(store, randomUUID())).toEqual([])
    })

    it('marks a job done once, with its report', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 1)
      await store.recordPart(jobId, outcome(0, 10), AT)

      const done = await store.finish(jobId, `reports/${jobId}.csv`, '2026-11-26T10:05:00.000Z')
      const again = await store.finish(jobId, 'reports/other.csv', '2026-11-26T10:09:00.000Z')

      expect(done).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 10 }, finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${jobId}.csv` })
      expect(again).toMatchObject({ state: 'done', finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${jobId}.csv` })
    })

    it('leaves a finished job as it is when one of its parts is recorded again', async () => {
      const store = storeOf()
      const jobId = await newJob(store, 1)
      await store.recordPart(jobId, outcome(0, 10), AT)
      const done = await store.finish(jobId, `reports/${jobId}.csv`, '2026-11-26T10:05:00.000Z')

      expect(await store.recordPart(jobId, outcome(0, 0, 10), '2026-11-26T10:06:00.000Z')).toBe('counted before')
      expect(await store.get(jobId)).toEqual(done)
    })

    it('lists the most recent jobs first', async () => {
      const store = storeOf()
      const ids = []
      for (const minute of ['10', '11', '12']) ids.push(await newJob(store, 1, `2030-01-01T00:${minute}:00.000Z`))

      expect((await store.recent(2)).map((job) => job.jobId)).toEqual([ids[2], ids[1]])
    })

    it('records nothing of a part whose write died before it was made, and counts it once when recorded again', async () => {
      const { store, crashAtPart } = crashingStoreOf()
      const jobId = await newJob(store, 2)
      crashAtPart('before')

      await expect(store.recordPart(jobId, outcome(0, 8, 2), AT)).rejects.toThrow()
      const crashed = await store.get(jobId)
      const recovered = await store.recordPart(jobId, outcome(0, 0, 10), AT)

      expect(crashed).toMatchObject({ chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 } })
      expect(recovered).toBe('counted')
      expect(await store.get(jobId)).toMatchObject({ chunksDone: 1, counter: { ok: 0, not_found: 0, error: 10 } })
    })

    it('counts nothing more for a part whose write was made just before the crash', async () => {
      const { store, crashAtPart } = crashingStoreOf()
      const jobId = await newJob(store, 2)
      crashAtPart('after')

      await expect(store.recordPart(jobId, outcome(1, 10), AT)).rejects.toThrow()
      const recovered = await store.recordPart(jobId, outcome(1, 0, 10), AT)

      expect(recovered).toBe('counted before')
      expect(await store.get(jobId)).toMatchObject({ chunksDone: 1, counter: { ok: 10, not_found: 0, error: 0 } })
    })

    it('says JobNotFound for a part of a job it does not have', async () => {
      const store = storeOf()

      await expect(store.recordPart(randomUUID(), outcome(0, 1), AT)).rejects.toBeInstanceOf(JobNotFound)
    })
  })
}
