import { describe, expect, it } from 'vitest'
import { InjectedCrash, QueueRefused } from '../../../devkit/memoryJobPorts.ts'
import { ValidationError } from '../../../lib/errors.ts'
import { ObjectTooLarge } from '../../../lib/jobs/errors.ts'
import { JOB_ID_PATTERN } from '../../../lib/jobs/job.ts'
import { chunkCodesOf } from '../../../lib/jobs/plan.ts'
import { codesOf, expectCountedOnce, FAN_OUT_CHECK_SECONDS, jobsHarness, ORIGIN, PLAN_PREFIX, type JobsHarness } from './jobsHarness.ts'

/** The codes of every chunk of the job's stored plan, in chunk order. */
function plannedCodes(jobs: JobsHarness, planKey: string): string[][] {
  const lines = (jobs.objects.objects.get(planKey)?.text ?? '').split('\n').filter((line) => line !== '')
  return lines.map((line, chunk) => [...(chunkCodesOf(line, chunk) ?? [])])
}

const planObjects = (jobs: JobsHarness) => [...jobs.objects.objects.keys()].filter((key) => key.startsWith(PLAN_PREFIX))

describe('Function: startJob', () => {
  it('stores the job with its plan of distinct codes in chunks, in key order, and sends every chunk', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const codes = [...codesOf('g', 30), 'missing1', 'broken', 'missing2', 'G0']

    const accepted = await jobs.start({ codes, prefix: 'flags/job1/', concurrency: 4 })

    expect(accepted).toEqual({ jobId: accepted.jobId, state: 'queued', total: 33, chunks: 4, maxOriginRequests: 16, statusUrl: `/jobs/${accepted.jobId}` })
    expect(accepted.jobId).toMatch(JOB_ID_PATTERN)
    const job = await jobs.record(accepted.jobId)
    // Its fan-out made progress: the job runs, though no chunk is counted yet.
    expect(job).toMatchObject({ state: 'queued', total: 33, chunks: 4, chunksDone: 0, chunksSent: 4, prefix: 'flags/job1/', baseUrl: ORIGIN, concurrency: 4, force: false })
    expect(job?.planKey).toMatch(new RegExp(`^${PLAN_PREFIX}${accepted.jobId}/[0-9a-f-]{36}\\.jsonl$`))
    const planned = plannedCodes(jobs, job?.planKey ?? '')
    expect(planned.map((chunk) => chunk.length)).toEqual([10, 10, 10, 3])
    const sent = planned.flat()
    expect(sent).toHaveLength(33)
    expect(sent).toEqual([...sent].sort())
    expect(sent).not.toContain('G0')
    expect(job?.planBytes).toBe(Buffer.byteLength(jobs.objects.objects.get(job?.planKey ?? '')?.text ?? 'none'))
    expect(jobs.chunksSent().map(({ chunk, part }) => [chunk, part])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
    ])
    expect(jobs.chunksSent()[0]).toMatchObject({ kind: 'chunk', jobId: accepted.jobId, start: 0 })
  })

  it('sets a check on its fan-out before the job is stored, delayed by the time a live fan-out never goes without progress', async () => {
    const jobs = jobsHarness()

    const accepted = await jobs.start({ codes: ['a'] })

    expect(jobs.queue.waiting.map((body) => JSON.parse(body) as unknown)).toEqual([
      { kind: 'chunk', jobId: accepted.jobId, chunk: 0, part: 0, start: 0, end: expect.any(Number) as number },
      { kind: 'fanOut', jobId: accepted.jobId, check: true },
    ])
    expect(jobs.crash.writes.map(({ point }) => point)).toEqual(['objects.write', 'objects.write', 'queue.send', 'store.create', 'queue.send', 'store.fannedOut'])
    expect(FAN_OUT_CHECK_SECONDS).toBeGreaterThan(0)
  })

  it('bounds the requests the origin sees at once by the workers, or by the chunks when fewer', async () => {
    const fewWorkers = jobsHarness({ chunkSize: 5, workerConcurrency: 2 })
    const fewChunks = jobsHarness({ chunkSize: 5, workerConcurrency: 10 })

    expect((await fewWorkers.start({ codes: codesOf('a', 20), concurrency: 3 })).maxOriginRequests).toBe(6)
    expect((await fewChunks.start({ codes: codesOf('a', 12), concurrency: 3 })).maxOriginRequests).toBe(9)
  })

  it('refuses a job over the most codes before anything is stored or queued', async () => {
    const jobs = jobsHarness({ maxCodes: 100 })

    await expect(jobs.start({ codes: codesOf('c', 101) })).rejects.toThrow(new ValidationError('codes: must hold at most 100 codes'))

    expect(await jobs.store.recent(10)).toEqual([])
    expect(jobs.queue.sent).toEqual([])
    expect(jobs.objects.objects.size).toBe(0)
  })

  it('refuses a job whose origin the rules do not allow before anything is stored or queued', async () => {
    const jobs = jobsHarness()

    await expect(jobs.start({ codes: ['a'], baseUrl: 'https://elsewhere.test' })).rejects.toBeInstanceOf(ValidationError)

    expect(await jobs.store.recent(10)).toEqual([])
    expect(jobs.queue.sent).toEqual([])
    expect(jobs.objects.objects.size).toBe(0)
  })

  it('makes a new job of each request without an id', async () => {
    const jobs = jobsHarness()

    const first = await jobs.start({ codes: ['a'] })
    const second = await jobs.start({ codes: ['a'] })

    expect(second.jobId).not.toBe(first.jobId)
    expect(await jobs.store.recent(10)).toHaveLength(2)
  })

  it('hands the rest of its fan-out to a fresh run when it is short of time, and the job still finishes', async () => {
    const jobs = jobsHarness({ chunkSize: 1 })

    const accepted = await jobs.start({ codes: codesOf('h', 3) }, undefined, () => 1_000)

    expect(jobs.sent().map(({ kind }) => kind)).toEqual(['fanOut', 'fanOut'])
    expect(await jobs.record(accepted.jobId)).toMatchObject({ chunksSent: 0 })
    await jobs.deliverAll()
    expectCountedOnce(await jobs.status(accepted.jobId))
    expect(jobs.chunksSent()).toHaveLength(3)
  })
})

describe('Function: startJob, with a request id (a scheduled job)', () => {
  it('makes the same job id of the same request id, a version-5 UUID, and another of another', async () => {
    const jobs = jobsHarness()

    const first = await jobs.start({ codes: ['a'] }, 'schedule-event-1')
    const retried = await jobs.start({ codes: ['a'] }, 'schedule-event-1')
    const other = await jobs.start({ codes: ['a'] }, 'schedule-event-2')

    expect(retried.jobId).toBe(first.jobId)
    expect(other.jobId).not.toBe(first.jobId)
    expect(first.jobId).toMatch(JOB_ID_PATTERN)
    expect(first.jobId[14]).toBe('5')
    expect(await jobs.store.recent(10)).toHaveLength(2)
  })

  it('makes one job of a request retried with its id, planning and sending nothing again, and counts each code once', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const codes = codesOf('r', 15)

    const first = await jobs.start({ codes, prefix: 'flags/retried/' }, 'schedule-event-1')
    const sentBefore = jobs.queue.sent.length
    const retried = await jobs.start({ codes, prefix: 'flags/retried/' }, 'schedule-event-1')
    const sentByRetry = jobs.queue.sent.length - sentBefore
    await jobs.deliverAll()

    expect(retried).toEqual(first)
    expect(sentByRetry).toBe(0)
    expect(planObjects(jobs)).toHaveLength(2)
    expect(jobs.chunksSent()).toHaveLength(2)
    expect(await jobs.status(first.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
    expectCountedOnce(await jobs.status(first.jobId))
    // Each image fetched once.
    expect(jobs.origin.requests).toHaveLength(15)
  })

  it('makes one job of two copies of a request planned at the same moment: the job stored first is the job, and only its plan is sent', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const codes = codesOf('t', 12)

    const [first, second] = await Promise.all([jobs.start({ codes }, 'schedule-event-4'), jobs.start({ codes }, 'schedule-event-4')])
    const job = await jobs.record(first.jobId)
    await jobs.deliverAll()

    expect(second.jobId).toBe(first.jobId)
    expect(await jobs.store.recent(10)).toHaveLength(1)
    // Each copy stored a plan of its own; the chunks sent are those of the stored job's plan, once each.
    expect(planObjects(jobs)).toHaveLength(4)
    expect(jobs.chunksSent().map(({ chunk }) => chunk)).toEqual([0, 1, 2])
    expect(job?.chunksSent).toBe(3)
    expectCountedOnce(await jobs.status(first.jobId))
    expect(jobs.origin.requests).toHaveLength(12)
  })

  it('keeps the plan it stored when the request is retried after its manifest changed: the same total, chunks and codes', async () => {
    const jobs = jobsHarness({ chunkSize: 10, manifests: { 'manifests/daily.txt': codesOf('first', 25).join('\n') } })
    const first = await jobs.start({ manifest: 'manifests/daily.txt', prefix: 'flags/daily/' }, 'schedule-event-7')
    jobs.objects.objects.set('manifests/daily.txt', { text: codesOf('second', 42).join('\n'), contentType: 'text/plain' })

    const retried = await jobs.start({ manifest: 'manifests/daily.txt', prefix: 'flags/daily/' }, 'schedule-event-7')
    await jobs.deliverAll()

    expect(retried).toMatchObject({ jobId: first.jobId, total: 25, chunks: 3 })
    expect(planObjects(jobs)).toHaveLength(2)
    const job = await jobs.status(first.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ total: 25, chunks: 3, counter: { ok: 25, not_found: 0, error: 0 } })
    expect([...jobs.sink.stored.keys()].sort()).toEqual(codesOf('first', 25).map((code) => `flags/daily/${code}.jpg`).sort())
  })

  it('plans a request retried after its planner died before storing the job as a new request, from the manifest as it is now', async () => {
    const jobs = jobsHarness({ chunkSize: 10, manifests: { 'manifests/daily.txt': codesOf('first', 5).join('\n') } })
    jobs.crash.at('store.create', 'before')
    await expect(jobs.start({ manifest: 'manifests/daily.txt' }, 'schedule-event-8')).rejects.toBeInstanceOf(InjectedCrash)
    jobs.objects.objects.set('manifests/daily.txt', { text: codesOf('second', 12).join('\n'), contentType: 'text/plain' })

    const retried = await jobs.start({ manifest: 'manifests/daily.txt' }, 'schedule-event-8')
    await jobs.deliverAll()

    expect(retried).toMatchObject({ total: 12, chunks: 2 })
    expectCountedOnce(await jobs.status(retried.jobId))
    // The first plan is left behind unused: no job names it.
    expect(planObjects(jobs)).toHaveLength(4)
  })
})

describe('Function: startJob, when a send fails', () => {
  it('fails when a chunk cannot be sent, and its check sends the chunks later, so the job still finishes', async () => {
    let refusals = 1
    const jobs = jobsHarness({
      chunkSize: 5,
      refuse: (message) => (message.kind === 'chunk' && refusals-- > 0 ? 'AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.' : undefined),
    })

    await expect(jobs.start({ codes: codesOf('q', 15) }, 'schedule-event-3')).rejects.toBeInstanceOf(QueueRefused)
    const [job] = await jobs.store.recent(1)
    expect(job).toMatchObject({ state: 'queued', chunksDone: 0 })
    expect(jobs.chunksSent()).toEqual([])
    await jobs.deliverAll()

    expectCountedOnce(await jobs.status(job?.jobId ?? ''))
    expect(await jobs.status(job?.jobId ?? '')).toMatchObject({ counter: { ok: 15, not_found: 0, error: 0 } })
    expect(jobs.chunksSent()).toHaveLength(3)
  })

  it('stores no job when its check cannot be sent, and leaves nothing to run', async () => {
    const jobs = jobsHarness({ refuse: (message) => (message.kind === 'fanOut' ? 'throttled' : undefined) })

    await expect(jobs.start({ codes: codesOf('q', 3) })).rejects.toThrow('throttled')

    expect(await jobs.store.recent(10)).toEqual([])
    expect(jobs.queue.sent).toEqual([])
  })
})

describe('Function: startJob, from a manifest', () => {
  const manifests = {
    'manifests/good.txt': `${codesOf('m', 25).join('\n')}\n`,
    'manifests/good.json': JSON.stringify(codesOf('j', 3)),
    'manifests/bad.txt': 'm1\nm2\nm 3\n',
    'manifests/large.txt': 'x\n'.repeat(100),
  }

  it('starts a job from the codes of a manifest in the bucket, one per line or a JSON array', async () => {
    const jobs = jobsHarness({ manifests, chunkSize: 10 })

    expect(await jobs.start({ manifest: 'manifests/good.txt', prefix: 'flags/manifest/' })).toMatchObject({ total: 25, chunks: 3 })
    expect(await jobs.start({ manifest: 'manifests/good.json' })).toMatchObject({ total: 3, chunks: 1 })
  })

  it('names the line of a bad code, a missing manifest, a key outside the manifests, and codes given beside a manifest', async () => {
    const jobs = jobsHarness({ manifests })

    await expect(jobs.start({ manifest: 'manifests/bad.txt' })).rejects.toThrow(new ValidationError('manifest line 3 "m 3": may only contain letters, digits, ".", "_" and "-"'))
    await expect(jobs.start({ manifest: 'manifests/none.txt' })).rejects.toThrow(new ValidationError('manifest: no object "manifests/none.txt" in the bucket'))
    await expect(jobs.start({ manifest: 'flags/good.txt' })).rejects.toThrow(new ValidationError('manifest: must be a key under "manifests/"'))
    await expect(jobs.start({ manifest: 'manifests/good.txt', codes: ['a'] })).rejects.toThrow(new ValidationError('give either codes or manifest, not both'))
    await expect(jobs.start({ manifest: 42 })).rejects.toThrow(new ValidationError('manifest: must be the key of an object in the bucket'))
    expect(jobs.queue.sent).toEqual([])
    expect(planObjects(jobs)).toEqual([])
  })

  it('refuses a manifest larger than the most it reads, keeping the cause', async () => {
    const jobs = jobsHarness({ manifests, maxManifestBytes: 100 })

    const refused = jobs.start({ manifest: 'manifests/large.txt' })

    await expect(refused).rejects.toThrow(new ValidationError('manifest: must be at most 100 bytes'))
    await expect(refused).rejects.toHaveProperty('cause', expect.any(ObjectTooLarge))
  })
})
