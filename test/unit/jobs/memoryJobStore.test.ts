import { randomUUID } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { crashes, InjectedCrash, InjectedWriteFailure, memoryJobObjects, memoryJobQueue, memoryJobStore, QueueRefused } from '../../../devkit/memoryJobPorts.ts'
import { JobNotFound, ObjectTooLarge, ObjectTooShort } from '../../../lib/jobs/errors.ts'
import type { JobFailure, NewJob, PartOutcome } from '../../../lib/jobs/job.ts'
import type { JobMessage } from '../../../lib/jobs/messages.ts'
import type { JobStore } from '../../../lib/jobs/ports.ts'

const AT = '2026-11-26T10:00:00.000Z'
const JOB_ID = '00000000-0000-4000-8000-000000000001'

function newJob(chunks: number, jobId = JOB_ID, createdAt = AT): NewJob {
  return {
    jobId,
    total: chunks * 10,
    duplicates: 0,
    chunks,
    prefix: 'flags/',
    baseUrl: 'https://origin.test',
    concurrency: 2,
    force: false,
    maxOriginRequests: 8,
    planKey: `plans/${jobId}/p.jsonl`,
    planBytes: chunks * 100,
    createdAt,
  }
}

/** A part's outcome: `ok` codes stored, `error` codes failed, and `rest` codes left to the next part. */
function outcome(chunk: number, ok: number, error = 0, { part = 0, rest = 0 } = {}): PartOutcome {
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

async function allFailures(store: JobStore, jobId: string): Promise<JobFailure[][]> {
  const pages: JobFailure[][] = []
  for await (const page of store.failuresOf(jobId)) pages.push([...page])
  return pages
}

const chunkMessage = (chunk: number): JobMessage => ({ kind: 'chunk', jobId: JOB_ID, chunk, part: 0, start: chunk * 10, end: chunk * 10 + 10 })
const chunkOf = (body: string) => (JSON.parse(body) as { chunk: number }).chunk

describe('Function: memoryJobStore, its jobs', () => {
  it('stores a job queued, reads it back as GET /jobs shows it and as its workers need it, and has none for an unknown id', async () => {
    const store = memoryJobStore()

    expect(await store.create({ ...newJob(3), total: 25, duplicates: 2 })).toBe(true)

    expect(await store.get(JOB_ID)).toEqual({
      jobId: JOB_ID,
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
    expect(await store.record(JOB_ID)).toMatchObject({ baseUrl: 'https://origin.test', concurrency: 2, force: false, planKey: `plans/${JOB_ID}/p.jsonl`, planBytes: 300, maxOriginRequests: 8, chunksSent: 0, fanOutAt: AT })
    expect(await store.get(randomUUID())).toBeUndefined()
    expect(await store.record(randomUUID())).toBeUndefined()
  })

  it('refuses to create a job whose id is stored already, changing nothing', async () => {
    const store = memoryJobStore()
    await store.create(newJob(2))

    const again = await store.create({ ...newJob(9), total: 99, prefix: 'other/', planKey: 'plans/other.jsonl', createdAt: '2026-11-27T00:00:00.000Z' })

    expect(again).toBe(false)
    expect(await store.record(JOB_ID)).toMatchObject({ total: 20, chunks: 2, prefix: 'flags/', planKey: `plans/${JOB_ID}/p.jsonl`, createdAt: AT })
  })

  it('lists the most recent jobs first', async () => {
    const store = memoryJobStore()
    const ids = []
    for (const minute of ['10', '11', '12']) {
      const jobId = randomUUID()
      await store.create(newJob(1, jobId, `2030-01-01T00:${minute}:00.000Z`))
      ids.push(jobId)
    }

    expect((await store.recent(2)).map((job) => job.jobId)).toEqual([ids[2], ids[1]])
  })

  it('marks a job done once, with its report', async () => {
    const store = memoryJobStore()
    await store.create(newJob(1))
    await store.recordPart(JOB_ID, outcome(0, 10), AT)

    const done = await store.finish(JOB_ID, `reports/${JOB_ID}.csv`, '2026-11-26T10:05:00.000Z')
    const again = await store.finish(JOB_ID, 'reports/other.csv', '2026-11-26T10:09:00.000Z')

    expect(done).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 10 }, finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${JOB_ID}.csv` })
    expect(again).toMatchObject({ state: 'done', finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${JOB_ID}.csv` })
  })

  it('says JobNotFound for a job it does not have, and writes nothing', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)

    await expect(store.recordPart(JOB_ID, outcome(3, 1), AT)).rejects.toBeInstanceOf(JobNotFound)
    await expect(store.recordPart(JOB_ID, outcome(3, 1), AT)).rejects.toThrow(`no job ${JOB_ID} to count chunk 3 into`)
    await expect(store.fannedOut(JOB_ID, 1, AT)).rejects.toBeInstanceOf(JobNotFound)
    await expect(store.finish(JOB_ID, 'reports/x.csv', AT)).rejects.toBeInstanceOf(JobNotFound)
    expect(store.recordedParts(JOB_ID)).toEqual([])
    expect(crash.writes).toEqual([])
  })
})

describe('Function: memoryJobStore, its fan-out checkpoints', () => {
  it('notes how far the fan-out got and when, the job still queued until a part is counted', async () => {
    const store = memoryJobStore()
    await store.create(newJob(300))

    await store.fannedOut(JOB_ID, 100, '2026-11-26T10:01:00.000Z')

    expect(await store.record(JOB_ID)).toMatchObject({ state: 'queued', chunksSent: 100, fanOutAt: '2026-11-26T10:01:00.000Z', chunksDone: 0 })
  })

  it('never moves back: a slower run noting less than is noted changes nothing, its time included', async () => {
    const store = memoryJobStore()
    await store.create(newJob(300))
    await store.fannedOut(JOB_ID, 200, '2026-11-26T10:01:00.000Z')

    await store.fannedOut(JOB_ID, 100, '2026-11-26T10:02:00.000Z')
    await store.fannedOut(JOB_ID, 200, '2026-11-26T10:03:00.000Z')

    expect(await store.record(JOB_ID)).toMatchObject({ chunksSent: 200, fanOutAt: '2026-11-26T10:01:00.000Z' })
    await store.fannedOut(JOB_ID, 300, '2026-11-26T10:04:00.000Z')
    expect(await store.record(JOB_ID)).toMatchObject({ chunksSent: 300, fanOutAt: '2026-11-26T10:04:00.000Z' })
  })
})

describe('Function: memoryJobStore, its parts', () => {
  it('counts a part once when it is recorded again, and the first outcome stands', async () => {
    const store = memoryJobStore()
    await store.create(newJob(2))

    const first = await store.recordPart(JOB_ID, outcome(0, 8, 2), AT)
    const again = await store.recordPart(JOB_ID, outcome(0, 10), '2026-11-26T10:03:00.000Z')

    expect([first, again]).toEqual(['counted', 'counted before'])
    expect(await store.get(JOB_ID)).toMatchObject({ state: 'running', chunksDone: 1, counter: { ok: 8, not_found: 0, error: 2 }, bytes: 800, updatedAt: AT })
    expect(await store.partOf(JOB_ID, 0, 0)).toEqual(outcome(0, 8, 2))
    expect(await store.partOf(JOB_ID, 1, 0)).toBeUndefined()
    expect((await allFailures(store, JOB_ID)).flat().map((failure) => failure.code)).toEqual(['c0.0-0', 'c0.0-1'])
  })

  it('counts a part exactly once when ten workers record it at the same moment, whichever outcome comes first', async () => {
    const store = memoryJobStore()
    await store.create(newJob(2))

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.recordPart(JOB_ID, outcome(1, 10 - i, i), AT)))

    expect(results.filter((result) => result === 'counted')).toHaveLength(1)
    expect(results.filter((result) => result === 'counted before')).toHaveLength(9)
    const job = await store.get(JOB_ID)
    expect(job).toMatchObject({ chunksDone: 1 })
    // Whichever outcome was recorded first is the one counted, whole.
    expect((job?.counter.ok ?? 0) + (job?.counter.error ?? 0)).toBe(10)
    expect((await allFailures(store, JOB_ID)).flat()).toHaveLength(job?.counter.error ?? -1)
    expect(store.recordedParts(JOB_ID)).toEqual(['1.0'])
  })

  it('counts a part that left codes to the next part without closing its chunk, and the next part closes it', async () => {
    const store = memoryJobStore()
    await store.create(newJob(1))

    await store.recordPart(JOB_ID, outcome(0, 6, 0, { rest: 4 }), AT)
    const cut = await store.get(JOB_ID)
    await store.recordPart(JOB_ID, outcome(0, 3, 1, { part: 1 }), AT)

    expect(cut).toMatchObject({ chunksDone: 0, counter: { ok: 6, not_found: 0, error: 0 } })
    expect(await store.get(JOB_ID)).toMatchObject({ chunksDone: 1, counter: { ok: 9, not_found: 0, error: 1 } })
    expect((await store.partOf(JOB_ID, 0, 0))?.rest).toEqual(['r0.0-0', 'r0.0-1', 'r0.0-2', 'r0.0-3'])
    expect(store.recordedParts(JOB_ID)).toEqual(['0.0', '0.1'])
  })

  it('adds every part into its job and keeps the counters summing to what was recorded', async () => {
    const store = memoryJobStore()
    await store.create(newJob(3))

    await store.recordPart(JOB_ID, outcome(2, 9, 1), AT)
    await store.recordPart(JOB_ID, outcome(0, 10), AT)
    await store.recordPart(JOB_ID, outcome(1, 7, 3), '2026-11-26T10:04:00.000Z')

    expect(await store.get(JOB_ID)).toMatchObject({ state: 'running', chunksDone: 3, counter: { ok: 26, not_found: 0, error: 4 }, bytes: 2600, updatedAt: '2026-11-26T10:04:00.000Z' })
  })

  it.each([2, 3, 1_000_000])('changes nothing for chunk %i of a job of 2 chunks: not in plan', async (chunk) => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(newJob(2))
    const before = await store.record(JOB_ID)

    expect(await store.recordPart(JOB_ID, outcome(chunk, 10), AT)).toBe('not in plan')

    expect(await store.record(JOB_ID)).toEqual(before)
    expect(await store.partOf(JOB_ID, chunk, 0)).toBeUndefined()
    expect(store.recordedParts(JOB_ID)).toEqual([])
    expect(crash.writes.map(({ point }) => point)).toEqual(['store.create'])
  })

  it('pages the failures of a job in chunk and part order, whatever order the parts were recorded in', async () => {
    const store = memoryJobStore()
    await store.create(newJob(12))

    for (const chunk of [11, 3, 0, 10, 2]) await store.recordPart(JOB_ID, outcome(chunk, 9, 1, { part: 1 }), AT)
    await store.recordPart(JOB_ID, outcome(3, 9, 1, { rest: 1 }), AT)

    expect((await allFailures(store, JOB_ID)).flat().map((failure) => failure.code)).toEqual(['c0.1-0', 'c2.1-0', 'c3.0-0', 'c3.1-0', 'c10.1-0', 'c11.1-0'])
    expect(await allFailures(store, randomUUID())).toEqual([])
  })

  it('leaves a finished job as it is when one of its parts is recorded again', async () => {
    const store = memoryJobStore()
    await store.create(newJob(1))
    await store.recordPart(JOB_ID, outcome(0, 10), AT)
    const done = await store.finish(JOB_ID, `reports/${JOB_ID}.csv`, '2026-11-26T10:05:00.000Z')

    expect(await store.recordPart(JOB_ID, outcome(0, 0, 10), '2026-11-26T10:06:00.000Z')).toBe('counted before')
    expect(await store.get(JOB_ID)).toEqual(done)
  })

  it('records and counts nothing when it crashes before the part\'s write, so that the part is counted when recorded again', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(newJob(2))
    crash.at('store.part', 'before')

    await expect(store.recordPart(JOB_ID, outcome(0, 8, 2), AT)).rejects.toBeInstanceOf(InjectedCrash)
    const crashed = await store.get(JOB_ID)
    const recorded = await store.recordPart(JOB_ID, outcome(0, 10), AT)

    expect(crashed).toMatchObject({ chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 } })
    expect(recorded).toBe('counted')
    expect(await store.get(JOB_ID)).toMatchObject({ chunksDone: 1, counter: { ok: 10, not_found: 0, error: 0 } })
  })

  it('keeps the part and its count together when it crashes just after their write: recorded again, it counts nothing more', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(newJob(2))
    crash.at('store.part', 'after')

    await expect(store.recordPart(JOB_ID, outcome(1, 10), AT)).rejects.toBeInstanceOf(InjectedCrash)
    const again = await store.recordPart(JOB_ID, outcome(1, 0, 10), AT)

    expect(again).toBe('counted before')
    expect(await store.get(JOB_ID)).toMatchObject({ chunksDone: 1, counter: { ok: 10, not_found: 0, error: 0 } })
    expect(store.recordedParts(JOB_ID)).toEqual(['1.0'])
  })
})

describe('Function: crashes', () => {
  it('fires once, at the nth write of its point, and logs every write made', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(newJob(3))
    crash.at('store.part', 'after', 2)

    await store.recordPart(JOB_ID, outcome(0, 10), AT)
    await expect(store.recordPart(JOB_ID, outcome(1, 10), AT)).rejects.toThrow(`crashed after store.part (${JOB_ID}#1.0)`)
    await store.recordPart(JOB_ID, outcome(2, 10), AT)

    expect(crash.armed).toBe(false)
    expect(crash.writes.map(({ point }) => point)).toEqual(['store.create', 'store.part', 'store.part', 'store.part'])
  })

  it('crashes after the nth write of any kind', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    crash.afterWrite(2)

    await store.create(newJob(1))
    await expect(store.recordPart(JOB_ID, outcome(0, 10), AT)).rejects.toBeInstanceOf(InjectedCrash)

    expect(crash.writes).toEqual([
      { point: 'store.create', subject: JOB_ID },
      { point: 'store.part', subject: `${JOB_ID}#0.0` },
    ])
  })
})

describe('Function: memoryJobQueue', () => {
  it('fails a whole send that holds a message it refuses, sending none of it', async () => {
    const queue = memoryJobQueue({ refuse: (sent) => (sent.kind === 'chunk' && sent.chunk === 1 ? 'QueueDoesNotExist' : undefined) })

    await expect(queue.send([chunkMessage(0), chunkMessage(1), chunkMessage(2)])).rejects.toThrow(new QueueRefused('QueueDoesNotExist'))
    await queue.send([chunkMessage(2)])

    expect(queue.sent.map(chunkOf)).toEqual([2])
  })

  it('keeps the messages sent before a crash in the middle of a send', async () => {
    const crash = crashes()
    const queue = memoryJobQueue({ crash })
    crash.at('queue.send', 'before', 3)

    await expect(queue.send([chunkMessage(0), chunkMessage(1), chunkMessage(2), chunkMessage(3)])).rejects.toBeInstanceOf(InjectedCrash)

    expect(queue.waiting).toHaveLength(2)
  })

  it('delivers a message again while its handler throws, then to the dead letters, at most maxReceiveCount times each', async () => {
    const queue = memoryJobQueue()
    await queue.send([chunkMessage(0), chunkMessage(1)])
    const handled: number[] = []
    const deadLetters: number[] = []

    const errors = await queue.deliver(
      async (body) => {
        handled.push(chunkOf(body))
        if (chunkOf(body) === 1) throw new Error('poison')
      },
      async (body) => {
        deadLetters.push(chunkOf(body))
      },
      3,
    )

    expect(handled).toEqual([0, 1, 1, 1])
    expect(deadLetters).toEqual([1])
    expect(errors).toHaveLength(3)
    expect(queue.waiting).toEqual([])
  })

  it('delivers a delayed message once no other is waiting, even one sent after it', async () => {
    const queue = memoryJobQueue()
    const check: JobMessage = { kind: 'fanOut', jobId: JOB_ID, check: true }
    await queue.send([check], 60)
    await queue.send([chunkMessage(0)])
    const handled: string[] = []

    await queue.deliver(
      async (body) => {
        handled.push(body)
        if (body.includes('"chunk":0')) await queue.send([chunkMessage(1)])
      },
      async () => undefined,
    )

    expect(handled.map((body) => (JSON.parse(body) as JobMessage).kind)).toEqual(['chunk', 'chunk', 'fanOut'])
  })

  it('stops after maxDeliveries messages, leaving the rest waiting', async () => {
    const queue = memoryJobQueue()
    await queue.send([chunkMessage(0), chunkMessage(1), chunkMessage(2)])

    await queue.deliver(async () => undefined, async () => undefined, 3, 2)

    expect(queue.waiting.map(chunkOf)).toEqual([2])
  })
})

describe('Function: memoryJobObjects', () => {
  it('reads an object whole, none for a missing key, and refuses one past maxBytes with ObjectTooLarge', async () => {
    const objects = memoryJobObjects({ 'manifests/a.txt': 'a\nb\n' })

    expect(await objects.readText('manifests/a.txt', 4)).toBe('a\nb\n')
    expect(await objects.readText('manifests/none.txt', 4)).toBeUndefined()
    await expect(objects.readText('manifests/a.txt', 3)).rejects.toBeInstanceOf(ObjectTooLarge)
  })

  it('reads a range of bytes, none for a missing key, and throws for a range past the end', async () => {
    const objects = memoryJobObjects({ 'plans/p.jsonl': 'ab\nçd\n' })

    expect(await objects.readRange('plans/p.jsonl', 3, 7)).toBe('çd\n')
    expect(await objects.readRange('plans/none.jsonl', 0, 1)).toBeUndefined()
    await expect(objects.readRange('plans/p.jsonl', 3, 8)).rejects.toBeInstanceOf(ObjectTooShort)
  })

  it('writes an object from lines, each ended by a line break, and answers its bytes', async () => {
    const objects = memoryJobObjects()
    async function* lines() {
      yield 'code'
      yield 'ç'
    }

    expect(await objects.writeLines('reports/r.csv', lines(), 'text/csv')).toEqual({ bytes: 8 })

    expect(objects.objects.get('reports/r.csv')).toEqual({ text: 'code\nç\n', contentType: 'text/csv' })
  })

  it('leaves no object when a write of lines dies', async () => {
    const crash = crashes()
    const objects = memoryJobObjects({}, crash)
    crash.at('objects.write', 'before')
    async function* lines() {
      yield 'code'
    }

    await expect(objects.writeLines('reports/r.csv', lines(), 'text/csv')).rejects.toBeInstanceOf(InjectedCrash)

    expect(objects.objects.has('reports/r.csv')).toBe(false)
  })

  it('fails the chosen writes of a key, after reading their lines, storing nothing, and takes the writes after them', async () => {
    const crash = crashes()
    const objects = memoryJobObjects({ 'reports/j.csv': 'before\n' }, crash)
    let read = 0
    async function* lines() {
      for (const line of ['code,status', 'x,error']) {
        read += 1
        yield line
      }
    }
    objects.failWrites('reports/j.csv', 2)

    await expect(objects.writeLines('reports/j.csv', lines(), 'text/csv')).rejects.toBeInstanceOf(InjectedWriteFailure)
    await expect(objects.writeText('reports/j.csv', 'x\n', 'text/csv')).rejects.toBeInstanceOf(InjectedWriteFailure)
    const failed = { text: objects.objects.get('reports/j.csv')?.text, writes: crash.writes.length }
    await objects.writeText('reports/other.csv', 'other\n', 'text/csv')
    const written = await objects.writeLines('reports/j.csv', lines(), 'text/csv')

    expect(read).toBe(4)
    expect(failed).toEqual({ text: 'before\n', writes: 0 })
    expect(written).toEqual({ bytes: 20 })
    expect(objects.objects.get('reports/j.csv')).toEqual({ text: 'code,status\nx,error\n', contentType: 'text/csv' })
    expect(crash.writes.map(({ point, subject }) => `${point} ${subject}`)).toEqual(['objects.write reports/other.csv', 'objects.write reports/j.csv'])
  })
})
