import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import type { ChunkMessage } from '../../../lib/jobs/chunks.ts'
import { ObjectTooLarge } from '../../../lib/jobs/errors.ts'
import { JOB_ID_PATTERN } from '../../../lib/jobs/job.ts'
import { codesOf, jobsHarness, ORIGIN } from './jobsHarness.ts'

const messagesOf = (bodies: readonly string[]) => bodies.map((body) => JSON.parse(body) as ChunkMessage)

describe('Function: startJob', () => {
  it('stores the job queued and sends its distinct codes in chunks, in key order', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const codes = [...codesOf('g', 30), 'missing1', 'broken', 'missing2', 'G0']

    const accepted = await jobs.start({ codes, prefix: 'flags/job1/', concurrency: 4 })

    expect(accepted).toEqual({ jobId: accepted.jobId, state: 'queued', total: 33, chunks: 4, maxOriginRequests: 16, statusUrl: `/jobs/${accepted.jobId}` })
    expect(accepted.jobId).toMatch(JOB_ID_PATTERN)
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'queued', total: 33, chunks: 4, chunksDone: 0, prefix: 'flags/job1/' })
    const messages = messagesOf(jobs.queue.sent)
    expect(messages.map((message) => [message.chunk, message.codes.length])).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
      [3, 3],
    ])
    const sent = messages.flatMap((message) => message.codes)
    expect(sent).toHaveLength(33)
    expect(sent).toEqual([...sent].sort())
    expect(sent).not.toContain('G0')
    expect(messages[0]).toMatchObject({ jobId: accepted.jobId, baseUrl: ORIGIN, concurrency: 4, prefix: 'flags/job1/', force: false })
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
  })

  it('refuses a job whose origin the rules do not allow before anything is stored or queued', async () => {
    const jobs = jobsHarness()

    await expect(jobs.start({ codes: ['a'], baseUrl: 'https://elsewhere.test' })).rejects.toBeInstanceOf(ValidationError)

    expect(await jobs.store.recent(10)).toEqual([])
    expect(jobs.queue.sent).toEqual([])
  })

  it('makes a new job of each request without an id', async () => {
    const jobs = jobsHarness()

    const first = await jobs.start({ codes: ['a'] })
    const second = await jobs.start({ codes: ['a'] })

    expect(second.jobId).not.toBe(first.jobId)
    expect(await jobs.store.recent(10)).toHaveLength(2)
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

  it('makes one job of a request retried with its id, queueing its chunks again and counting each once', async () => {
    const jobs = jobsHarness({ chunkSize: 10 })
    const codes = codesOf('r', 15)

    const first = await jobs.start({ codes, prefix: 'flags/retried/' }, 'schedule-event-1')
    await jobs.start({ codes, prefix: 'flags/retried/' }, 'schedule-event-1')
    await jobs.deliverAll()

    expect(jobs.queue.sent).toHaveLength(4)
    expect(await jobs.status(first.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
    // Each image fetched once: the second copy of a chunk was recorded already.
    expect(jobs.origin.requests).toHaveLength(15)
  })
})

describe('Function: startJob, for a chunk that cannot be queued', () => {
  it('counts every chunk it cannot queue as error at once, so the job still finishes', async () => {
    const jobs = jobsHarness({ chunkSize: 10, refuse: () => 'AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.' })

    const accepted = await jobs.start({ codes: codesOf('q', 15), prefix: 'flags/unqueued/' })

    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 0, not_found: 0, error: 15 }, reportKey: `reports/${accepted.jobId}.csv` })
    expect(jobs.origin.requests).toEqual([])
    expect(jobs.report(accepted.jobId)).toMatch(/^q0,error,dead_letter,0,,the chunk could not be queued: AWS\.SimpleQueueService\.NonExistentQueue/m)
  })

  it('counts the chunk it cannot queue at once and leaves the others to the workers', async () => {
    const jobs = jobsHarness({ chunkSize: 5, refuse: (message) => (message.chunk === 1 ? 'throttled' : undefined) })

    const accepted = await jobs.start({ codes: codesOf('q', 15) })
    const beforeWorkers = await jobs.status(accepted.jobId)
    await jobs.deliverAll()

    expect(beforeWorkers).toMatchObject({ state: 'queued', chunksDone: 1, counter: { ok: 0, not_found: 0, error: 5 } })
    expect(await jobs.status(accepted.jobId)).toMatchObject({ state: 'done', chunksDone: 3, counter: { ok: 10, not_found: 0, error: 5 } })
    expect(jobs.report(accepted.jobId)?.split('\n').filter((line) => line.endsWith('the chunk could not be queued: throttled'))).toHaveLength(5)
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
  })

  it('refuses a manifest larger than the most it reads, keeping the cause', async () => {
    const jobs = jobsHarness({ manifests, maxManifestBytes: 100 })

    const refused = jobs.start({ manifest: 'manifests/large.txt' })

    await expect(refused).rejects.toThrow(new ValidationError('manifest: must be at most 100 bytes'))
    await expect(refused).rejects.toHaveProperty('cause', expect.any(ObjectTooLarge))
  })
})
