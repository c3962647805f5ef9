import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import type { ChunkMessage } from '../../../lib/jobs/chunks.ts'
import { ChunkIncomplete } from '../../../lib/jobs/errors.ts'
import { codesOf, jobsHarness, type Answer } from './jobsHarness.ts'

const UNKNOWN_JOB = '00000000-0000-4000-8000-00000000dead'

describe('Function: runChunk', () => {
  it('runs every chunk of a job, counts every code once, and writes the report of its failures', async () => {
    const jobs = jobsHarness({ answers: { missing1: 404, missing2: 404, broken: 500 }, chunkSize: 10 })
    const accepted = await jobs.start({ codes: [...codesOf('g', 30), 'missing1', 'broken', 'missing2', 'G0'], prefix: 'flags/job1/', concurrency: 4 })

    for (const body of jobs.queue.sent) await jobs.runChunk(body)

    expect(await jobs.status(accepted.jobId)).toMatchObject({
      state: 'done',
      total: 33,
      chunks: 4,
      chunksDone: 4,
      counter: { ok: 30, not_found: 2, error: 1 },
      reportKey: `reports/${accepted.jobId}.csv`,
    })
    expect([...jobs.sink.stored.keys()].filter((key) => key.startsWith('flags/job1/'))).toHaveLength(30)
    expect(jobs.objects.objects.get(`reports/${accepted.jobId}.csv`)?.contentType).toBe('text/csv; charset=utf-8')
    expect(jobs.report(accepted.jobId)?.trim().split('\n').sort()).toEqual([
      'broken,error,http_500,3,500,origin answered HTTP 500',
      'code,status,reason,attempts,httpStatus,message',
      'missing1,not_found,not_found,1,404,not found',
      'missing2,not_found,not_found,1,404,not found',
    ])
  })

  it('marks the job running with its first chunk, and answers what became of the chunk', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('s', 10) })
    const [first] = jobs.queue.sent

    const counted = await jobs.runChunk(first ?? '')

    expect(counted).toMatchObject({ kind: 'counted', chunk: 0, job: { state: 'running', chunksDone: 1, counter: { ok: 5, not_found: 0, error: 0 } } })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'running', chunksDone: 1 })
  })

  it('counts a chunk delivered twice once, however its second run ends', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('d', 15), prefix: 'flags/twice/' })
    const [first, second] = jobs.queue.sent

    await jobs.runChunk(first ?? '')
    const again = await jobs.runChunk(first ?? '')
    await jobs.runChunk(second ?? '')

    expect(again).toMatchObject({ kind: 'counted', job: { chunksDone: 1, counter: { ok: 10 } } })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
  })

  it('does not run again a chunk whose outcome is recorded', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    await jobs.start({ codes: codesOf('n', 10) })
    const [body] = jobs.queue.sent
    await jobs.runChunk(body ?? '')
    const requests = jobs.origin.requests.length

    await jobs.runChunk(body ?? '')

    expect(requests).toBe(10)
    expect(jobs.origin.requests).toHaveLength(requests)
    expect(jobs.sink.puts).toHaveLength(10)
  })

  it('counts ten copies of a chunk delivered at the same moment once', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('t', 20) })
    const [first, second] = jobs.queue.sent

    await Promise.all(Array.from({ length: 10 }, () => jobs.runChunk(first ?? '')))
    await jobs.runChunk(second ?? '')

    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 20, not_found: 0, error: 0 } })
    expect(jobs.crash.writes.filter(({ point }) => point === 'store.finish')).toHaveLength(1)
  })

  it('does not count a chunk the deadline cut short, so that its next delivery runs it and counts it', async () => {
    const answers: Record<string, Answer> = { slow: 'stall' }
    const jobs = jobsHarness({ answers })
    const accepted = await jobs.start({ codes: ['fast', 'slow'], prefix: 'flags/cut/' })
    const [body] = jobs.queue.sent
    const deadline = new AbortController()
    jobs.origin.onStall = () => deadline.abort()

    await expect(jobs.runChunk(body ?? '', { signal: deadline.signal })).rejects.toBeInstanceOf(ChunkIncomplete)
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'running', chunksDone: 0 })
    expect(await jobs.store.chunkRecorded(accepted.jobId, 0)).toBe(false)

    answers['slow'] = 'image'
    await jobs.runChunk(body ?? '')

    // What the cut run stored is found unchanged at the origin, not fetched again.
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 2, not_found: 0, error: 0 }, unchanged: 1 })
  })

  it('drops, unrun, a chunk of a job the store does not have', async () => {
    const jobs = jobsHarness()
    const message: ChunkMessage = { jobId: UNKNOWN_JOB, chunk: 0, codes: ['a'], baseUrl: 'https://origin.test/flags', concurrency: 1, prefix: 'flags/', force: false }

    expect(await jobs.runChunk(JSON.stringify(message))).toEqual({ kind: 'dropped', reason: `no job ${UNKNOWN_JOB}` })
    expect(jobs.origin.requests).toEqual([])
  })

  it('throws for a message that is not a chunk, so that it goes to the dead letters, where it is dropped', async () => {
    const jobs = jobsHarness()
    jobs.queue.push('{"hello":1}')

    await expect(jobs.runChunk('{"hello":1}')).rejects.toBeInstanceOf(ValidationError)
    const errors = await jobs.deliverAll(2)

    expect(errors.map((error) => (error as Error).name)).toEqual(['ValidationError', 'ValidationError'])
    expect(jobs.queue.waiting).toEqual([])
  })

  it('counts at once a chunk the rules refuse, rather than leaving it to the dead-letter queue', async () => {
    const jobs = jobsHarness()
    const accepted = await jobs.start({ codes: ['a', 'b'], prefix: 'flags/refused/' })
    const [body] = jobs.queue.sent
    // The same chunk, as a message that names an origin the rules do not allow.
    const tampered = { ...(JSON.parse(body ?? '{}') as Record<string, unknown>), baseUrl: 'https://10.1.2.3' }

    const counted = await jobs.runChunk(JSON.stringify(tampered))

    expect(counted).toMatchObject({ kind: 'counted', job: { state: 'done', counter: { ok: 0, not_found: 0, error: 2 } } })
    expect(jobs.report(accepted.jobId)).toContain('a,error,dead_letter,0,,"the chunk was refused: baseUrl: host ""10.1.2.3"" is not in ALLOWED_HOSTS"')
    expect(jobs.origin.requests).toEqual([])
  })
})

describe('Function: runChunk, at its limits and in races', () => {
  it('counts at once a chunk holding more codes than a chunk may', async () => {
    const jobs = jobsHarness()
    const accepted = await jobs.start({ codes: ['a'] })
    const [body] = jobs.queue.sent
    const oversized = { ...(JSON.parse(body ?? '{}') as ChunkMessage), codes: codesOf('o', 501) }

    const counted = await jobs.runChunk(JSON.stringify(oversized))

    expect(counted).toMatchObject({ kind: 'counted', job: { jobId: accepted.jobId, chunksDone: 1, counter: { ok: 0, not_found: 0, error: 501 } } })
    expect(jobs.report(accepted.jobId)).toContain('o0,error,dead_letter,0,,the chunk was refused: codes: must hold at most 500 codes')
    expect(jobs.origin.requests).toEqual([])
  })

  it('closes the job once when copies of its last chunk end at the same moment: one report, the first close stands', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('l', 10) })
    const [first, last] = jobs.queue.sent
    await jobs.runChunk(first ?? '')

    const ends = await Promise.all(Array.from({ length: 5 }, () => jobs.runChunk(last ?? '')))

    const job = await jobs.status(accepted.jobId)
    expect(job).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 10, not_found: 0, error: 0 } })
    expect(new Set(ends.map((end) => (end.kind === 'counted' ? end.job.finishedAt : undefined)))).toEqual(new Set([job?.finishedAt]))
    expect(jobs.report(accepted.jobId)).toBe('code,status,reason,attempts,httpStatus,message\n')
    expect(jobs.crash.writes.filter(({ point }) => point === 'store.chunkCount')).toHaveLength(2)
  })
})

describe('Function: countDeadLetter', () => {
  it('counts the codes of a dead-lettered chunk as error, and still finishes the job', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('p', 12), prefix: 'flags/poison/' })
    const [first, second] = jobs.queue.sent

    await jobs.runChunk(first ?? '')
    const dead = await jobs.countDeadLetter(second ?? '')

    expect(dead).toMatchObject({ kind: 'counted', chunk: 1, job: { state: 'done', counter: { ok: 10, not_found: 0, error: 2 } } })
    // Chunks are cut in key order: p0, p1, p10, p11, p2 … p7, then p8, p9.
    expect(jobs.report(accepted.jobId)).toContain('p9,error,dead_letter,0,,the chunk kept failing and went to the dead-letter queue')
  })

  it('dead-letters a chunk that keeps running out of time after its last delivery', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('k', 5) })

    // No time left: every code is cut short before it starts, on every delivery.
    const errors = await jobs.deliverAll(3, { remainingMs: () => 0 })

    expect(errors.map((error) => (error as Error).name)).toEqual(['ChunkIncomplete', 'ChunkIncomplete', 'ChunkIncomplete'])
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 0, not_found: 0, error: 5 } })
    expect(jobs.origin.requests).toEqual([])
  })

  it('changes nothing for a chunk counted before it reached the dead letters', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('c', 10) })
    const [body] = jobs.queue.sent
    await jobs.runChunk(body ?? '')
    const done = await jobs.status(accepted.jobId)

    expect(await jobs.countDeadLetter(body ?? '')).toEqual({ kind: 'counted', chunk: 0, job: done })
  })

  it('drops a message that is not a chunk, and a chunk of no job', async () => {
    const jobs = jobsHarness()
    const message: ChunkMessage = { jobId: UNKNOWN_JOB, chunk: 0, codes: ['a'], baseUrl: 'https://origin.test/flags', concurrency: 1, prefix: 'flags/', force: false }

    expect(await jobs.countDeadLetter('{"hello":1}')).toMatchObject({ kind: 'dropped' })
    expect(await jobs.countDeadLetter(JSON.stringify(message))).toEqual({ kind: 'dropped', reason: `no job ${UNKNOWN_JOB} to count chunk 0 into` })
  })
})
