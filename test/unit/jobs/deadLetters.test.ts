import { describe, expect, it } from 'vitest'
import { PartLeased } from '../../../lib/jobs/errors.ts'
import { InjectedCrash } from '../../../devkit/memoryJobPorts.ts'
import type { ChunkMessage } from '../../../lib/jobs/messages.ts'
import { codesOf, expectCountedOnce, jobsHarness, WORKER_TIMEOUT_SECONDS } from './jobsHarness.ts'

const UNKNOWN_JOB = '00000000-0000-4000-8000-00000000dead'
const WHY = 'the chunk kept failing and went to the dead-letter queue'

const bodyOf = (message: ChunkMessage | undefined) => JSON.stringify(message ?? {})

describe('Function: countDeadLetter', () => {
  it('counts the codes of a dead-lettered chunk no delivery stored as error, and still finishes the job', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('p', 12), prefix: 'flags/poison/' })
    const [first, second] = jobs.chunksSent()

    await jobs.run(bodyOf(first))
    const dead = await jobs.countDeadLetter(bodyOf(second))
    await jobs.deliverAll()

    expect(dead).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 1 part 0 counted' })
    const job = await jobs.status(accepted.jobId)
    expect(job).toMatchObject({ state: 'done', counter: { ok: 10, not_found: 0, error: 2 } })
    expectCountedOnce(job)
    // Chunks are cut in key order: p0, p1, p10, p11, p2 … p7, then p8, p9.
    expect(jobs.report(accepted.jobId)).toContain(`p9,error,dead_letter,0,,${WHY}`)
  })

  it('dead-letters a chunk that keeps running out of time after its last delivery', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('k', 5) })

    // No time left: every code is cut short before it starts, on every delivery.
    const errors = await jobs.deliverAll(3, { remainingMs: () => 0 })

    expect(errors.map((error) => (error as Error).name)).toEqual(['ChunkIncomplete', 'ChunkIncomplete', 'ChunkIncomplete'])
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 0, not_found: 0, error: 5 } })
    expectCountedOnce(await jobs.status(accepted.jobId))
    expect(jobs.origin.requests).toEqual([])
  })

  it('changes nothing for a chunk counted before it reached the dead letters', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('c', 10) })
    const [body] = jobs.chunksSent()
    await jobs.run(bodyOf(body))
    const counted = await jobs.status(accepted.jobId)

    expect(await jobs.countDeadLetter(bodyOf(body))).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted before' })
    expect(await jobs.status(accepted.jobId)).toEqual(counted)
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0'])
  })

  it('drops a message that is not a job message, and a chunk of no job', async () => {
    const jobs = jobsHarness()
    const message: ChunkMessage = { kind: 'chunk', jobId: UNKNOWN_JOB, chunk: 0, part: 0, start: 0, end: 20 }

    expect(await jobs.countDeadLetter('{"hello":1}')).toMatchObject({ kind: 'dropped' })
    expect(await jobs.countDeadLetter(JSON.stringify(message))).toEqual({ kind: 'dropped', reason: `no job ${UNKNOWN_JOB}` })
  })

  it('drops a dead-lettered chunk message that is not of the plan, counting nothing', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('c', 10) })
    const [first] = jobs.chunksSent()
    const before = await jobs.record(accepted.jobId)

    expect(await jobs.countDeadLetter(JSON.stringify({ ...first, chunk: 2 }))).toMatchObject({ kind: 'dropped' })
    expect(await jobs.countDeadLetter(JSON.stringify({ ...first, chunk: 1 }))).toMatchObject({ kind: 'dropped' })
    expect(await jobs.countDeadLetter(JSON.stringify({ ...first, part: 1 }))).toMatchObject({ kind: 'dropped' })
    expect(await jobs.record(accepted.jobId)).toEqual(before)
  })
})

describe('Function: countDeadLetter, for images a delivery stored', () => {
  it('counts ok, not dead_letter, every code of a dead-letter copy whose image is stored (a worker stored them and died before counting)', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('s', 10), prefix: 'flags/stored/' })
    const [body] = jobs.chunksSent()
    jobs.crash.at('store.part', 'before')
    await expect(jobs.run(bodyOf(body))).rejects.toBeInstanceOf(InjectedCrash)
    const stored = jobs.sink.stored.size

    // The dead worker held the part for as long as it could have run: counted once that is over.
    await expect(jobs.countDeadLetter(bodyOf(body))).rejects.toBeInstanceOf(PartLeased)
    jobs.clock.advance(WORKER_TIMEOUT_SECONDS)
    const dead = await jobs.countDeadLetter(bodyOf(body))
    await jobs.deliverAll()

    expect(stored).toBe(10)
    expect(dead).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted' })
    const job = await jobs.status(accepted.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ counter: { ok: 10, not_found: 0, error: 0 } })
    expect(jobs.report(accepted.jobId)).toBe('code,status,reason,attempts,httpStatus,message\n')
  })

  it('counts ok the stored images of a dead-lettered chunk and dead_letter only the codes no delivery stored', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('h', 4), prefix: 'flags/half/' })
    const [body] = jobs.chunksSent()
    jobs.sink.stored.set('flags/half/h1.jpg', { etag: '"v1"' })
    jobs.sink.stored.set('flags/half/h3.jpg', { etag: '"v1"' })

    await jobs.countDeadLetter(bodyOf(body))
    await jobs.deliverAll()

    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', counter: { ok: 2, not_found: 0, error: 2 } })
    expect(jobs.report(accepted.jobId)).toBe(`code,status,reason,attempts,httpStatus,message\nh0,error,dead_letter,0,,${WHY}\nh2,error,dead_letter,0,,${WHY}\n`)
  })

  it('waits for a worker still running a dead-lettered copy of its chunk: the images it stores count ok', async () => {
    const jobs = jobsHarness({ chunkSize: 10, answers: { v4: 'stall' } })
    const accepted = await jobs.start({ codes: codesOf('v', 5), prefix: 'flags/race/' })
    const [body] = jobs.chunksSent()
    const deadline = new AbortController()
    const { promise: fourStored, resolve } = Promise.withResolvers<void>()
    let finished = 0
    const observer = {
      codeFinished: () => {
        finished += 1
        if (finished === 4) resolve()
      },
      progress: () => undefined,
    }

    const running = jobs.run(bodyOf(body), { signal: deadline.signal, observer })
    await fourStored
    const dead = jobs.countDeadLetter(bodyOf(body))
    await expect(dead).rejects.toBeInstanceOf(PartLeased)
    deadline.abort()
    const ran = await running
    const again = await jobs.countDeadLetter(bodyOf(body))
    // The rest (v4) never gets time, and goes to the dead-letter queue.
    await jobs.deliverAll(undefined, { remainingMs: () => 0 })

    expect(ran).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted, 1 codes cut short sent on' })
    expect(again).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted before' })
    const job = await jobs.status(accepted.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ counter: { ok: 4, not_found: 0, error: 1 } })
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0', '0.1'])
    expect(jobs.report(accepted.jobId)).toBe(`code,status,reason,attempts,httpStatus,message\nv4,error,dead_letter,0,,${WHY}\n`)
  })

  it('counts a dead-lettered next part by the codes its cut part left, and closes the chunk', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('n', 6), prefix: 'flags/next/', concurrency: 1 })
    const [body] = jobs.chunksSent()
    let starts = 0
    // Part 0 finishes two codes (its first two readings: its hold on the part and its timer);
    // every later delivery has no time at all.
    const errors = await jobs.deliverAll(2, (message) => ({ remainingMs: () => (message.part === 0 && starts++ <= 3 ? 60_000 : 0) }))

    expect(body).toMatchObject({ part: 0 })
    expect(errors.map((error) => (error as Error).name)).toEqual(['ChunkIncomplete', 'ChunkIncomplete'])
    const job = await jobs.status(accepted.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ counter: { ok: 2, not_found: 0, error: 4 } })
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0', '0.1'])
    expect(jobs.report(accepted.jobId)?.split('\n').filter((line) => line.endsWith(WHY))).toHaveLength(4)
  })
})

describe('Function: countDeadLetter, for the steps of a job', () => {
  it('runs a dead-lettered finish again', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('f', 5) })
    await jobs.run(bodyOf(jobs.chunksSent()[0]))

    expect(await jobs.countDeadLetter(JSON.stringify({ kind: 'finish', jobId: accepted.jobId }))).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'finished' })
    expectCountedOnce(await jobs.status(accepted.jobId))
  })

  it('runs a dead-lettered fan-out again at once, even a check', async () => {
    const jobs = jobsHarness({ chunkSize: 1 })
    jobs.crash.at('store.fannedOut', 'before')
    await expect(jobs.start({ codes: codesOf('o', 3) })).rejects.toBeInstanceOf(InjectedCrash)
    const [job] = await jobs.store.recent(1)
    const sent = jobs.chunksSent().length

    const taken = await jobs.countDeadLetter(JSON.stringify({ kind: 'fanOut', jobId: job?.jobId, check: true }))

    expect(taken).toMatchObject({ kind: 'done', what: 'chunks 0 to 2 sent' })
    expect(sent).toBe(3)
    expect(jobs.chunksSent()).toHaveLength(6)
    expect(await jobs.record(job?.jobId ?? '')).toMatchObject({ chunksSent: 3 })
  })
})
