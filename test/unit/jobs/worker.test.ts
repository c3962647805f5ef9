import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import { ChunkIncomplete } from '../../../lib/jobs/errors.ts'
import type { ChunkMessage } from '../../../lib/jobs/messages.ts'
import { codesOf, expectCountedOnce, jobsHarness, timeLeftFor, type Answer, type JobsHarness } from './jobsHarness.ts'

const UNKNOWN_JOB = '00000000-0000-4000-8000-00000000dead'

const bodyOf = (message: ChunkMessage | undefined) => JSON.stringify(message ?? {})
const writesAt = (jobs: JobsHarness, point: string) => jobs.crash.writes.filter((write) => write.point === point)

describe('Function: runJobMessage, for a chunk', () => {
  it('runs every chunk of a job, counts every code once, and writes the report of its failures', async () => {
    const jobs = jobsHarness({ answers: { missing1: 404, missing2: 404, broken: 500 }, chunkSize: 10 })
    const accepted = await jobs.start({ codes: [...codesOf('g', 30), 'missing1', 'broken', 'missing2', 'G0'], prefix: 'flags/job1/', concurrency: 4 })

    await jobs.deliverAll()

    const job = await jobs.status(accepted.jobId)
    expect(job).toMatchObject({
      state: 'done',
      total: 33,
      chunks: 4,
      chunksDone: 4,
      counter: { ok: 30, not_found: 2, error: 1 },
      reportKey: `reports/${accepted.jobId}.csv`,
    })
    expectCountedOnce(job)
    expect([...jobs.sink.stored.keys()].filter((key) => key.startsWith('flags/job1/'))).toHaveLength(30)
    expect(jobs.objects.objects.get(`reports/${accepted.jobId}.csv`)?.contentType).toBe('text/csv; charset=utf-8')
    expect(jobs.report(accepted.jobId)?.trim().split('\n').sort()).toEqual([
      'broken,error,http_500,3,500,origin answered HTTP 500',
      'code,status,reason,attempts,httpStatus,message',
      'missing1,not_found,not_found,1,404,not found',
      'missing2,not_found,not_found,1,404,not found',
    ])
  })

  it('counts the chunk into its running job, and answers what became of it', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('s', 10) })
    const [first] = jobs.chunksSent()

    const counted = await jobs.run(bodyOf(first))

    expect(counted).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted' })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'running', chunksDone: 1, counter: { ok: 5, not_found: 0, error: 0 } })
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0'])
  })

  it('sends the finish of the job once its last chunk is counted, and not before', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('s', 10) })
    const [first, second] = jobs.chunksSent()

    await jobs.run(bodyOf(first))
    const finishesAfterFirst = jobs.sent().filter(({ kind }) => kind === 'finish').length
    await jobs.run(bodyOf(second))

    expect(finishesAfterFirst).toBe(0)
    expect(jobs.sent().filter(({ kind }) => kind === 'finish')).toEqual([{ kind: 'finish', jobId: accepted.jobId }])
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'running', chunksDone: 2, reportKey: null })
  })

  it('counts a chunk delivered twice once, however its second run ends', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('d', 15), prefix: 'flags/twice/' })
    const [first, second] = jobs.chunksSent()

    await jobs.run(bodyOf(first))
    const again = await jobs.run(bodyOf(first))
    await jobs.run(bodyOf(second))
    await jobs.deliverAll()

    expect(again).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted before' })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
    expectCountedOnce(await jobs.status(accepted.jobId))
  })

  it('does not run again a chunk whose outcome is recorded', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    await jobs.start({ codes: codesOf('n', 10) })
    const [body] = jobs.chunksSent()
    await jobs.run(bodyOf(body))
    const requests = jobs.origin.requests.length

    await jobs.run(bodyOf(body))

    expect(requests).toBe(10)
    expect(jobs.origin.requests).toHaveLength(requests)
    expect(jobs.sink.puts).toHaveLength(10)
  })

  it('counts ten copies of a chunk delivered at the same moment once', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('t', 20) })
    const [first, second] = jobs.chunksSent()

    await Promise.all(Array.from({ length: 10 }, () => jobs.run(bodyOf(first))))
    await jobs.run(bodyOf(second))
    await jobs.deliverAll()

    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 20, not_found: 0, error: 0 } })
    expectCountedOnce(await jobs.status(accepted.jobId))
    expect(writesAt(jobs, 'store.part')).toHaveLength(2)
    expect(writesAt(jobs, 'store.finish')).toHaveLength(1)
  })

  it('drops, unrun, a chunk of a job the store does not have', async () => {
    const jobs = jobsHarness()
    const message: ChunkMessage = { kind: 'chunk', jobId: UNKNOWN_JOB, chunk: 0, part: 0, start: 0, end: 20 }

    expect(await jobs.run(JSON.stringify(message))).toEqual({ kind: 'dropped', reason: `no job ${UNKNOWN_JOB}` })
    expect(jobs.origin.requests).toEqual([])
  })

  it('throws for a message that is not a job message, so that it goes to the dead letters, where it is dropped', async () => {
    const jobs = jobsHarness()
    jobs.queue.push('{"hello":1}')

    await expect(jobs.run('{"hello":1}')).rejects.toBeInstanceOf(ValidationError)
    const errors = await jobs.deliverAll(2)

    expect(errors.map((error) => (error as Error).name)).toEqual(['ValidationError', 'ValidationError'])
    expect(jobs.queue.waiting).toEqual([])
  })

  it('counts at once a chunk the rules refuse (its origin no longer allowed), rather than leaving it to the dead-letter queue', async () => {
    const jobs = jobsHarness({ workerAllowedHosts: ['elsewhere.test'] })
    const accepted = await jobs.start({ codes: ['a', 'b'], prefix: 'flags/refused/' })
    const [body] = jobs.chunksSent()

    const counted = await jobs.run(bodyOf(body))
    await jobs.deliverAll()

    expect(counted).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted' })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', counter: { ok: 0, not_found: 0, error: 2 } })
    expect(jobs.report(accepted.jobId)).toContain('a,error,dead_letter,0,,"the chunk was refused: baseUrl: host ""origin.test"" is not in ALLOWED_HOSTS"')
    expect(jobs.origin.requests).toEqual([])
  })
})

describe('Function: runJobMessage, for a chunk at its limits and in races', () => {
  it('counts at once a chunk holding more codes than the workers let a chunk hold', async () => {
    const jobs = jobsHarness({ chunkSize: 10, workerMaxCodes: 5 })
    const accepted = await jobs.start({ codes: codesOf('o', 6) })

    await jobs.deliverAll()

    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 0, not_found: 0, error: 6 } })
    expect(jobs.report(accepted.jobId)).toContain('o0,error,dead_letter,0,,the chunk was refused: codes: must hold at most 5 codes')
    expect(jobs.origin.requests).toEqual([])
  })

  it('closes the job once when copies of its last chunk end at the same moment: one report, the first close stands', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('l', 10) })
    const [first, last] = jobs.chunksSent()
    await jobs.run(bodyOf(first))

    await Promise.all(Array.from({ length: 5 }, () => jobs.run(bodyOf(last))))
    await jobs.deliverAll()

    const job = await jobs.status(accepted.jobId)
    expect(job).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 10, not_found: 0, error: 0 } })
    expectCountedOnce(job)
    expect(jobs.report(accepted.jobId)).toBe('code,status,reason,attempts,httpStatus,message\n')
    expect(writesAt(jobs, 'store.part')).toHaveLength(2)
    expect(writesAt(jobs, 'store.finish')).toHaveLength(1)
  })
})

describe('Function: runJobMessage, for a chunk the deadline cuts', () => {
  it('does not count a part the deadline cut before it finished any code, so that its next delivery runs it and counts it', async () => {
    const answers: Record<string, Answer> = { slow: 'stall' }
    const jobs = jobsHarness({ answers })
    const accepted = await jobs.start({ codes: ['fast', 'slow'], prefix: 'flags/cut/' })
    const [body] = jobs.chunksSent()

    await expect(jobs.run(bodyOf(body), { remainingMs: () => 0 })).rejects.toBeInstanceOf(ChunkIncomplete)
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'queued', chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 } })
    expect(await jobs.store.partOf(accepted.jobId, 0, 0)).toBeUndefined()

    answers['slow'] = 'image'
    await jobs.run(bodyOf(body))
    await jobs.deliverAll()

    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 2, not_found: 0, error: 0 } })
  })

  it('counts once the codes a part finished before the deadline and sends the rest on as the chunk\'s next part', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('w', 10), prefix: 'flags/cut/', concurrency: 1 })
    const [body] = jobs.chunksSent()

    const cut = await jobs.run(bodyOf(body), timeLeftFor(4))

    expect(cut).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted, 6 codes cut short sent on' })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'running', chunksDone: 0, counter: { ok: 4, not_found: 0, error: 0 } })
    const part0 = await jobs.store.partOf(accepted.jobId, 0, 0)
    expect(part0?.rest).toHaveLength(6)
    expect(jobs.chunksSent().at(-1)).toEqual({ ...body, part: 1 })

    await jobs.deliverAll()

    const job = await jobs.status(accepted.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ counter: { ok: 10, not_found: 0, error: 0 }, unchanged: 0 })
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0', '0.1'])
    // Each image fetched and stored once: the second part runs only what the first left.
    expect(jobs.origin.requests).toHaveLength(10)
    expect(jobs.sink.puts).toHaveLength(10)
    expect(jobs.report(accepted.jobId)).toBe('code,status,reason,attempts,httpStatus,message\n')
  })

  it('counts the codes an origin stalled as the deadline came in a later part, and every stored image ok', async () => {
    const answers: Record<string, Answer> = { v3: 'stall', v7: 'stall' }
    const jobs = jobsHarness({ answers, chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('v', 10), prefix: 'flags/stalled/' })
    const [body] = jobs.chunksSent()
    const deadline = new AbortController()
    let finished = 0
    const observer = {
      codeFinished: () => {
        finished += 1
        // Every code the origin answers is done: only the stalled ones hang on, until the deadline.
        if (finished === 8) deadline.abort()
      },
      progress: () => undefined,
    }

    await jobs.run(bodyOf(body), { signal: deadline.signal, observer })
    answers['v3'] = 'image'
    answers['v7'] = 404
    await jobs.deliverAll()

    const job = await jobs.status(accepted.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ counter: { ok: 9, not_found: 1, error: 0 } })
    expect((await jobs.store.partOf(accepted.jobId, 0, 0))?.rest).toEqual(['v3', 'v7'])
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0', '0.1'])
    expect(jobs.report(accepted.jobId)).toBe('code,status,reason,attempts,httpStatus,message\nv7,not_found,not_found,1,404,not found\n')
  })

  it('sends the next part again when a part counted before is delivered again (the run that sent it may have died)', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const accepted = await jobs.start({ codes: codesOf('y', 5), concurrency: 1 })
    const [body] = jobs.chunksSent()
    await jobs.run(bodyOf(body), timeLeftFor(2))

    const again = await jobs.run(bodyOf(body))

    expect(again).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'chunk 0 part 0 counted before' })
    expect(jobs.chunksSent().filter(({ part }) => part === 1)).toHaveLength(2)
    await jobs.deliverAll()
    expectCountedOnce(await jobs.status(accepted.jobId))
    expect(jobs.store.recordedParts(accepted.jobId)).toEqual(['0.0', '0.1'])
  })
})

describe('Function: runJobMessage, for a chunk message that is not of the plan', () => {
  async function plannedJob() {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('f', 15) })
    const [first, second, third] = jobs.chunksSent()
    if (first === undefined || second === undefined || third === undefined) throw new Error('the planner sent no three chunks')
    return { jobs, jobId: accepted.jobId, first, second, third }
  }

  const forgeries: [string, (chunks: { first: ChunkMessage; second: ChunkMessage; third: ChunkMessage }) => ChunkMessage][] = [
    ['a chunk past the plan\'s last', ({ first }) => ({ ...first, chunk: 3 })],
    ['a chunk far past the plan\'s last', ({ third }) => ({ ...third, chunk: 1_000_000 })],
    ['a chunk whose range is another chunk\'s line', ({ first }) => ({ ...first, chunk: 1 })],
    ['a range inside the chunk\'s line', ({ second }) => ({ ...second, start: second.start + 1 })],
    ['a range over two lines', ({ first, second }) => ({ ...first, end: second.end })],
    ['a range past the plan\'s end', ({ third }) => ({ ...third, end: third.end + 10 })],
    ['an empty range', ({ second }) => ({ ...second, end: second.start })],
    ['a part whose previous part is not recorded', ({ second }) => ({ ...second, part: 1 })],
  ]

  it.each(forgeries)('drops %s and changes nothing', async (_name, forge) => {
    const { jobs, jobId, first, second, third } = await plannedJob()
    const before = await jobs.record(jobId)
    const writes = jobs.crash.writes.length
    const sent = jobs.queue.sent.length
    const forged = forge({ first, second, third })

    const result = await jobs.run(JSON.stringify(forged))

    expect(result).toEqual({ kind: 'dropped', reason: `chunk ${forged.chunk} part ${forged.part} is not in the plan of job ${jobId}` })
    expect(await jobs.record(jobId)).toEqual(before)
    expect(jobs.crash.writes).toHaveLength(writes)
    expect(jobs.queue.sent).toHaveLength(sent)
    expect(jobs.store.recordedParts(jobId)).toEqual([])
    expect(jobs.origin.requests).toEqual([])
  })

  it('drops a next part of a chunk whose part left nothing, and the job still ends exactly', async () => {
    const { jobs, jobId, first } = await plannedJob()
    await jobs.run(bodyOf(first))
    const before = await jobs.record(jobId)

    const result = await jobs.run(JSON.stringify({ ...first, part: 1 }))
    await jobs.deliverAll()

    expect(result).toMatchObject({ kind: 'dropped' })
    expect(before).toMatchObject({ chunksDone: 1, counter: { ok: 5 } })
    const job = await jobs.status(jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ total: 15, counter: { ok: 15, not_found: 0, error: 0 } })
    expect(jobs.store.recordedParts(jobId)).toEqual(['0.0', '1.0', '2.0'])
  })

  it('runs the codes of the plan, whatever codes a message carries beside its fields', async () => {
    const { jobs, jobId, first } = await plannedJob()

    await jobs.run(JSON.stringify({ ...first, codes: ['intruder'], baseUrl: 'https://10.1.2.3' }))

    expect(jobs.origin.requests.map((request) => request.url).sort()).toEqual(codesOf('f', 15).sort().slice(0, 5).map((code) => `https://origin.test/flags/${code}.jpg`))
    expect(await jobs.status(jobId)).toMatchObject({ chunksDone: 1, counter: { ok: 5 } })
  })
})

describe('Function: runJobMessage, for the steps of a job', () => {
  it('finishes a job on its finish message, and answers a repeated one as finished before', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('z', 5) })
    await jobs.run(bodyOf(jobs.chunksSent()[0]))
    const finish = JSON.stringify({ kind: 'finish', jobId: accepted.jobId })

    expect(await jobs.run(finish)).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'finished' })
    expect(await jobs.run(finish)).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'finished before' })
    expect(writesAt(jobs, 'store.finish')).toHaveLength(1)
  })

  it('drops a finish of a job not every chunk of which is counted', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('z', 10) })

    expect(await jobs.run(JSON.stringify({ kind: 'finish', jobId: accepted.jobId }))).toEqual({ kind: 'dropped', reason: `job ${accepted.jobId} has 0 of 2 chunks counted: not finished` })
    expect(await jobs.run(JSON.stringify({ kind: 'finish', jobId: UNKNOWN_JOB }))).toEqual({ kind: 'dropped', reason: `no job ${UNKNOWN_JOB} to finish` })
    expect(jobs.report(accepted.jobId)).toBeUndefined()
  })

  it('drops a fan-out of a job the store does not have', async () => {
    const jobs = jobsHarness()

    expect(await jobs.run(JSON.stringify({ kind: 'fanOut', jobId: UNKNOWN_JOB, check: true }))).toMatchObject({ kind: 'dropped' })
    expect(jobs.queue.sent).toEqual([])
  })
})
