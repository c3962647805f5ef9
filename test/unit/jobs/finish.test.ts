import { describe, expect, it } from 'vitest'
import { crashes, InjectedCrash, memoryJobObjects, memoryJobQueue, memoryJobStore } from '../../../devkit/memoryJobPorts.ts'
import { deadLetterPart, finishJob, followUp, type JobSteps } from '../../../lib/jobs/finish.ts'
import type { JobFailure, PartOutcome } from '../../../lib/jobs/job.ts'
import type { ChunkMessage } from '../../../lib/jobs/messages.ts'
import { codesOf, expectCountedOnce, jobsHarness } from './jobsHarness.ts'

const JOB_ID = '00000000-0000-4000-8000-000000000002'
const REPORT_KEY = `reports/${JOB_ID}.csv`
const HEADER = 'code,status,reason,attempts,httpStatus,message\n'

async function finishing(chunks: number) {
  const crash = crashes()
  const store = memoryJobStore(crash)
  const objects = memoryJobObjects({}, crash)
  const queue = memoryJobQueue({ crash })
  let minute = 0
  const deps: JobSteps = { store, objects, queue, reportPrefix: 'reports/', now: () => new Date(Date.UTC(2026, 10, 26, 10, minute++)), fanOutCheckSeconds: 60 }
  await store.create({
    jobId: JOB_ID,
    total: chunks * 2,
    duplicates: 0,
    chunks,
    prefix: 'flags/',
    baseUrl: 'https://origin.test',
    concurrency: 2,
    force: false,
    maxOriginRequests: 4,
    planKey: `plans/${JOB_ID}/p.jsonl`,
    planBytes: 100,
    createdAt: '2026-11-26T09:00:00.000Z',
  })
  return { crash, store, objects, queue, deps }
}

function partOf(chunk: number, failures: readonly JobFailure[] = [], rest: readonly string[] = [], part = 0): PartOutcome {
  const failed = { not_found: failures.filter((failure) => failure.status === 'not_found').length, error: failures.filter((failure) => failure.status === 'error').length }
  return { chunk, part, counter: { ok: 2 - failures.length - rest.length, ...failed }, unchanged: 0, bytes: 10, failures, rest }
}

const message: ChunkMessage = { kind: 'chunk', jobId: JOB_ID, chunk: 1, part: 0, start: 40, end: 80 }
const AT = '2026-11-26T09:30:00.000Z'

describe('Function: finishJob', () => {
  it('leaves a job not every chunk of which is counted as it is, with no report', async () => {
    const { deps, store, objects } = await finishing(2)
    await store.recordPart(JOB_ID, partOf(0), AT)

    const result = await finishJob(JOB_ID, deps)

    expect(result).toEqual({ kind: 'dropped', reason: `job ${JOB_ID} has 1 of 2 chunks counted: not finished` })
    expect(await store.get(JOB_ID)).toMatchObject({ state: 'running', chunksDone: 1, finishedAt: null, reportKey: null })
    expect(objects.objects.size).toBe(0)
  })

  it('writes the report of the failures in chunk order and marks the job done', async () => {
    const { deps, store, objects } = await finishing(2)
    await store.recordPart(JOB_ID, partOf(1, [{ code: 'y', status: 'error', reason: 'http_500', attempts: 3, httpStatus: 500, message: 'origin answered HTTP 500' }]), AT)
    await store.recordPart(JOB_ID, partOf(0, [{ code: 'b', status: 'not_found', reason: 'not_found', attempts: 1, httpStatus: 404, message: 'not found' }]), AT)

    const result = await finishJob(JOB_ID, deps)

    expect(result).toEqual({ kind: 'done', jobId: JOB_ID, what: 'finished' })
    const job = await store.get(JOB_ID)
    expect(job).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 2, not_found: 1, error: 1 }, reportKey: REPORT_KEY, finishedAt: '2026-11-26T10:00:00.000Z' })
    expectCountedOnce(job)
    expect(objects.objects.get(REPORT_KEY)).toEqual({
      text: `${HEADER}b,not_found,not_found,1,404,not found\ny,error,http_500,3,500,origin answered HTTP 500\n`,
      contentType: 'text/csv; charset=utf-8',
    })
  })

  it('reports the failures of a chunk\'s parts in part order', async () => {
    const { deps, store, objects } = await finishing(1)
    const cut: JobFailure = { code: 'a', status: 'error', reason: 'http_500', attempts: 3, httpStatus: 500, message: 'first part' }
    const later: JobFailure = { code: 'b', status: 'error', reason: 'dead_letter', attempts: 0, message: 'second part' }
    await store.recordPart(JOB_ID, { ...partOf(0, [later], [], 1), counter: { ok: 0, not_found: 0, error: 1 } }, AT)
    await store.recordPart(JOB_ID, { ...partOf(0, [cut], ['b'], 0), counter: { ok: 0, not_found: 0, error: 1 } }, AT)

    await finishJob(JOB_ID, deps)

    expect(objects.objects.get(REPORT_KEY)?.text).toBe(`${HEADER}a,error,http_500,3,500,first part\nb,error,dead_letter,0,,second part\n`)
    expectCountedOnce(await store.get(JOB_ID))
  })

  it('quotes the fields of the report that hold commas, quotes or line breaks', async () => {
    const { deps, store, objects } = await finishing(1)
    await store.recordPart(JOB_ID, partOf(0, [{ code: 'q', status: 'error', reason: 'network', attempts: 2, message: 'said "no", then\r\nhung up' }]), AT)

    await finishJob(JOB_ID, deps)

    expect(objects.objects.get(REPORT_KEY)?.text.split('\n').slice(1).join('\n')).toBe('q,error,network,2,,"said ""no"", then\r\nhung up"\n')
  })

  it('closes a job once: a finish run again writes no second report', async () => {
    const { deps, store, crash } = await finishing(1)
    await store.recordPart(JOB_ID, partOf(0), AT)

    await finishJob(JOB_ID, deps)
    const done = await store.get(JOB_ID)
    const again = await finishJob(JOB_ID, deps)

    expect(again).toEqual({ kind: 'done', jobId: JOB_ID, what: 'finished before' })
    expect(await store.get(JOB_ID)).toEqual(done)
    expect(crash.writes.map(({ point }) => point)).toEqual(['store.create', 'store.part', 'objects.write', 'store.finish'])
  })

  it('closes a job when its finish is run again after the report could not be written', async () => {
    const { deps, store, crash, objects } = await finishing(2)
    await store.recordPart(JOB_ID, partOf(0), AT)
    await store.recordPart(JOB_ID, partOf(1), AT)
    crash.at('objects.write', 'before')

    await expect(finishJob(JOB_ID, deps)).rejects.toBeInstanceOf(InjectedCrash)
    const counted = await store.get(JOB_ID)
    const closed = await finishJob(JOB_ID, deps)

    expect(counted).toMatchObject({ state: 'running', chunksDone: 2, reportKey: null })
    expect(closed).toEqual({ kind: 'done', jobId: JOB_ID, what: 'finished' })
    expect(await store.get(JOB_ID)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 4, not_found: 0, error: 0 }, reportKey: REPORT_KEY })
    expect(objects.objects.get(REPORT_KEY)?.text).toBe(HEADER)
  })

  it('keeps the first close when a crash came after the report but before the job was marked done', async () => {
    const { deps, store, crash } = await finishing(1)
    await store.recordPart(JOB_ID, partOf(0), AT)
    crash.at('store.finish', 'before')

    await expect(finishJob(JOB_ID, deps)).rejects.toBeInstanceOf(InjectedCrash)
    await finishJob(JOB_ID, deps)

    expect(await store.get(JOB_ID)).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 2 } })
    expect(crash.writes.filter(({ point }) => point === 'objects.write')).toHaveLength(2)
    expect(crash.writes.filter(({ point }) => point === 'store.finish')).toHaveLength(1)
  })

  it('drops the finish of a job it does not have', async () => {
    const { deps } = await finishing(1)

    expect(await finishJob('00000000-0000-4000-8000-00000000dead', deps)).toEqual({ kind: 'dropped', reason: 'no job 00000000-0000-4000-8000-00000000dead to finish' })
  })
})

describe('Function: finishJob, through the queue', () => {
  it('writes the report on a redelivery of the finish message when its first write failed, and closes the job once', async () => {
    const jobs = jobsHarness({ chunkSize: 5, answers: { r3: 404 } })
    const accepted = await jobs.start({ codes: codesOf('r', 10) })
    // The report is the bucket's third write, after the plan's two.
    jobs.crash.at('objects.write', 'before', 3)

    const errors = await jobs.deliverAll()

    expect(errors.map((error) => (error as Error).name)).toEqual(['InjectedCrash'])
    const job = await jobs.status(accepted.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ counter: { ok: 9, not_found: 1, error: 0 }, reportKey: `reports/${accepted.jobId}.csv` })
    expect(jobs.report(accepted.jobId)).toBe(`${HEADER}r3,not_found,not_found,1,404,not found\n`)
    expect(jobs.crash.writes.filter(({ point, subject }) => point === 'objects.write' && subject.startsWith('reports/'))).toHaveLength(1)
    expect(jobs.crash.writes.filter(({ point }) => point === 'store.finish')).toHaveLength(1)
  })
})

describe('Function: followUp', () => {
  it('sends the chunk\'s next part when the part left codes', async () => {
    const { deps, queue } = await finishing(2)

    expect(await followUp(message, partOf(1, [], ['b']), deps)).toBeUndefined()

    expect(queue.sent.map((body) => JSON.parse(body) as unknown)).toEqual([{ ...message, part: 1 }])
  })

  it('sends nothing while chunks of the job are left to count', async () => {
    const { deps, store, queue } = await finishing(2)
    await store.recordPart(JOB_ID, partOf(1), AT)

    expect(await followUp(message, partOf(1), deps)).toMatchObject({ chunksDone: 1 })
    expect(queue.sent).toEqual([])
  })

  it('sends the finish once every chunk is counted, and nothing once the job is done', async () => {
    const { deps, store, queue } = await finishing(1)
    await store.recordPart(JOB_ID, partOf(0), AT)

    await followUp({ ...message, chunk: 0 }, partOf(0), deps)
    await finishJob(JOB_ID, deps)
    await followUp({ ...message, chunk: 0 }, partOf(0), deps)

    expect(queue.sent.map((body) => JSON.parse(body) as unknown)).toEqual([{ kind: 'finish', jobId: JOB_ID }])
  })
})

describe('Function: deadLetterPart', () => {
  it('counts every code of the part an error, unattempted, for the reason given, leaving nothing to a next part', () => {
    expect(deadLetterPart({ ...message, part: 2 }, ['x', 'y'], 'the chunk kept failing')).toEqual({
      chunk: 1,
      part: 2,
      counter: { ok: 0, not_found: 0, error: 2 },
      unchanged: 0,
      bytes: 0,
      failures: [
        { code: 'x', status: 'error', reason: 'dead_letter', attempts: 0, message: 'the chunk kept failing' },
        { code: 'y', status: 'error', reason: 'dead_letter', attempts: 0, message: 'the chunk kept failing' },
      ],
      rest: [],
    })
  })
})
