import { PutObjectCommand } from '@aws-sdk/client-s3'
import { ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs'
import { describe, expect, it } from 'vitest'
import { loadDeadLettersConfig } from '../../lib/config/deadLetters.ts'
import { loadJobsConfig } from '../../lib/config/jobs.ts'
import { loadJobStatusConfig } from '../../lib/config/jobStatus.ts'
import { loadWorkerConfig } from '../../lib/config/worker.ts'
import { ValidationError } from '../../lib/errors.ts'
import { ChunkIncomplete } from '../../lib/jobs/errors.ts'
import { composeDeadLetters } from '../../lib/wiring/deadLetters.ts'
import { composeJobs } from '../../lib/wiring/jobs.ts'
import { composeJobStatus } from '../../lib/wiring/jobStatus.ts'
import { composeWorker } from '../../lib/wiring/worker.ts'
import { image, jpegBytes, stallHeaders, startOrigin, status, type OriginFixture } from '../../devkit/originFixture.ts'
import { useJobServers } from '../support/localJobs.ts'
import { useIntegrationServers } from '../support/localS3.ts'

const servers = useIntegrationServers()
const jobServers = useJobServers()
const FOREVER_MS = 10 * 60_000

/** The jobs functions' work, each composed as its handler composes it, on the local servers. */
function jobsFor(origin: OriginFixture, env: Record<string, string> = {}) {
  const local = {
    BUCKET_NAME: servers.s3.bucket,
    BASE_URL: origin.baseUrl,
    LOCAL_S3_ENDPOINT: servers.s3.endpoint,
    STAGE: 'local',
    JOBS_TABLE: jobServers.tableName,
    JOBS_QUEUE_URL: jobServers.queues.queueUrl,
    LOCAL_SQS_ENDPOINT: jobServers.queues.endpoint,
    LOCAL_DYNAMODB_ENDPOINT: jobServers.table.endpoint,
    CHUNK_SIZE: '10',
    HEADERS_TIMEOUT_MS: '1000',
    RETRY_BASE_DELAY_MS: '5',
    ...env,
  }
  const s3 = { s3Client: servers.s3.client }
  return {
    start: composeJobs(loadJobsConfig(local), s3),
    status: composeJobStatus(loadJobStatusConfig(local)),
    runChunk: composeWorker(loadWorkerConfig(local), s3),
    countDeadLetter: composeDeadLetters(loadDeadLettersConfig(local), s3),
  }
}

/** Every message waiting in the jobs queue, taken (they stay invisible for the queue's visibility timeout). */
async function takeAll(): Promise<Message[]> {
  const sqs = new SQSClient({ endpoint: jobServers.queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
  const messages: Message[] = []
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: jobServers.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }))
    if (Messages.length === 0) break
    messages.push(...Messages)
  }
  sqs.destroy()
  return messages
}

function originOf(codes: readonly string[], extra: Record<string, ReturnType<typeof image>> = {}) {
  return startOrigin({ ...Object.fromEntries(codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i, 500))])), ...extra })
}

describe('Jobs through the local DynamoDB, SQS and S3', () => {
  it('queues a job in chunks, counts every code once, and writes the report of its failures', async () => {
    const good = Array.from({ length: 30 }, (_, i) => `g${i}`)
    const origin = servers.track(await originOf(good, { '/broken.jpg': status(500) }))
    const jobs = jobsFor(origin)

    const accepted = await jobs.start({ codes: [...good, 'missing1', 'broken', 'missing2', 'G0'], prefix: 'flags/job1/', concurrency: 4 }, (id) => `/jobs/${id}`)
    const messages = await takeAll()
    for (const message of messages) await jobs.runChunk(message.Body ?? '')

    expect(accepted).toMatchObject({ state: 'queued', total: 33, chunks: 4, statusUrl: `/jobs/${accepted.jobId}` })
    // Four chunks, at most 10 workers: the origin sees at most min(10, 4) x 4 requests at once.
    expect(accepted.maxOriginRequests).toBe(16)
    expect(messages).toHaveLength(4)
    const job = await jobs.status({ jobId: accepted.jobId })
    expect(job).toMatchObject({ state: 'done', total: 33, chunks: 4, chunksDone: 4, counter: { ok: 30, not_found: 2, error: 1 }, reportKey: `reports/${accepted.jobId}.csv` })
    expect((await servers.s3.listKeys('flags/job1/')).length).toBe(30)
    const report = (await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString()
    expect(report?.trim().split('\n').sort()).toEqual([
      'broken,error,http_500,3,500,origin answered HTTP 500',
      'code,status,reason,attempts,httpStatus,message',
      'missing1,not_found,not_found,1,404,not found',
      'missing2,not_found,not_found,1,404,not found',
    ])
  })

  it('counts a chunk delivered twice once, however its second run ends', async () => {
    const codes = Array.from({ length: 15 }, (_, i) => `d${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin)
    const accepted = await jobs.start({ codes, prefix: 'flags/twice/' }, (id) => id)
    const [first, second] = await takeAll()

    await jobs.runChunk(first?.Body ?? '')
    const again = await jobs.runChunk(first?.Body ?? '')
    await jobs.runChunk(second?.Body ?? '')

    expect(again).toMatchObject({ kind: 'counted', job: { chunksDone: 1, counter: { ok: 10 } } })
    expect(await jobs.status({ jobId: accepted.jobId })).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
  })

  it('does not count a chunk the deadline cut short, so that it is delivered again', async () => {
    const origin = servers.track(await startOrigin({ '/slow.jpg': stallHeaders(FOREVER_MS, image(jpegBytes(1))) }))
    const jobs = jobsFor(origin, { DEADLINE_RESERVE_MS: '100', HEADERS_TIMEOUT_MS: '30000' })
    const accepted = await jobs.start({ codes: ['slow'], prefix: 'flags/cut/' }, (id) => id)
    const [message] = await takeAll()

    await expect(jobs.runChunk(message?.Body ?? '', { remainingMs: () => 300 })).rejects.toBeInstanceOf(ChunkIncomplete)
    expect(await jobs.status({ jobId: accepted.jobId })).toMatchObject({ state: 'running', chunksDone: 0 })
  })

  it('counts the codes of a dead-lettered chunk as error, and still finishes the job', async () => {
    const codes = Array.from({ length: 12 }, (_, i) => `p${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin)
    const accepted = await jobs.start({ codes, prefix: 'flags/poison/' }, (id) => id)
    const [first, second] = await takeAll()

    await jobs.runChunk(first?.Body ?? '')
    const dead = await jobs.countDeadLetter(second?.Body ?? '')
    const notAChunk = await jobs.countDeadLetter('{"hello":1}')

    expect(dead).toMatchObject({ kind: 'counted', job: { state: 'done', counter: { ok: 10, not_found: 0, error: 2 } } })
    expect(notAChunk).toMatchObject({ kind: 'dropped' })
    const report = (await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString() ?? ''
    // Chunks are cut in key order: p0, p1, p10, p11, p2 … p7, then p8, p9.
    expect(report).toContain('p9,error,dead_letter,0,,the chunk kept failing and went to the dead-letter queue')
  })

  it('starts a job from a manifest in the bucket, and names the line of a bad code in one', async () => {
    const codes = Array.from({ length: 25 }, (_, i) => `m${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin)
    const put = (key: string, body: string) => servers.s3.client.send(new PutObjectCommand({ Bucket: servers.s3.bucket, Key: key, Body: body }))
    await put('manifests/good.txt', `${codes.join('\n')}\n`)
    await put('manifests/bad.txt', 'm1\nm2\nm 3\n')

    const accepted = await jobs.start({ manifest: 'manifests/good.txt', prefix: 'flags/manifest/' }, (id) => id)
    await takeAll()

    expect(accepted).toMatchObject({ total: 25, chunks: 3 })
    await expect(jobs.start({ manifest: 'manifests/bad.txt' }, (id) => id)).rejects.toThrow(
      new ValidationError('manifest line 3 "m 3": may only contain letters, digits, ".", "_" and "-"'),
    )
    await expect(jobs.start({ manifest: 'manifests/none.txt' }, (id) => id)).rejects.toThrow(new ValidationError('manifest: no object "manifests/none.txt" in the bucket'))
    await expect(jobs.start({ manifest: 'flags/good.txt' }, (id) => id)).rejects.toThrow(new ValidationError('manifest: must be a key under "manifests/"'))
    await expect(jobs.start({ manifest: 'manifests/good.txt', codes: ['a'] }, (id) => id)).rejects.toThrow(new ValidationError('give either codes or manifest, not both'))
  })

  it('refuses a job over MAX_JOB_CODES before anything is stored or queued', async () => {
    const origin = servers.track(await startOrigin({}))
    const jobs = jobsFor(origin, { MAX_JOB_CODES: '100000' })
    const codes = Array.from({ length: 100_001 }, (_, i) => `c${i}`)

    await expect(jobs.start({ codes }, (id) => id)).rejects.toThrow(new ValidationError('codes: must hold at most 100000 codes'))
    expect(await takeAll()).toEqual([])
  })

  it('counts the chunks it cannot queue as error at once, so the job still finishes', async () => {
    const codes = Array.from({ length: 15 }, (_, i) => `q${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin, { JOBS_QUEUE_URL: `${jobServers.queues.endpoint}/000000000000/no-such-queue` })

    const accepted = await jobs.start({ codes, prefix: 'flags/unqueued/' }, (id) => id)

    expect(await jobs.status({ jobId: accepted.jobId })).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 0, not_found: 0, error: 15 } })
    expect(origin.requests).toEqual([])
    const report = (await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString() ?? ''
    expect(report).toMatch(/^q0,error,dead_letter,0,,the chunk could not be queued: .*(QueueDoesNotExist|NonExistentQueue)/m)
  })

  it('makes one job of a request retried with its id, queueing its chunks again and counting each once', async () => {
    const codes = Array.from({ length: 15 }, (_, i) => `r${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin)

    const first = await jobs.start({ codes, prefix: 'flags/retried/' }, (id) => id, 'schedule-event-1')
    const retried = await jobs.start({ codes, prefix: 'flags/retried/' }, (id) => id, 'schedule-event-1')
    const other = await jobs.start({ codes, prefix: 'flags/retried/' }, (id) => id, 'schedule-event-2')
    const messages = await takeAll()
    for (const message of messages) await jobs.runChunk(message.Body ?? '')

    expect(retried.jobId).toBe(first.jobId)
    expect(other.jobId).not.toBe(first.jobId)
    expect(messages).toHaveLength(6)
    expect(await jobs.status({ jobId: first.jobId })).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
    // Each image fetched once per job: the second copy of a chunk was recorded already.
    expect(origin.requests).toHaveLength(30)
  })

  it('counts at once a chunk the rules refuse, rather than leaving it to the dead-letter queue', async () => {
    const origin = servers.track(await originOf(['a']))
    const jobs = jobsFor(origin)
    const accepted = await jobs.start({ codes: ['a', 'b'], prefix: 'flags/refused/' }, (id) => id)
    const [message] = await takeAll()
    // The same chunk, as a message that names an origin the rules do not allow.
    const tampered = { ...(JSON.parse(message?.Body ?? '{}') as Record<string, unknown>), baseUrl: 'http://10.1.2.3' }

    const counted = await jobs.runChunk(JSON.stringify(tampered))

    expect(counted).toMatchObject({ kind: 'counted', job: { state: 'done', counter: { ok: 0, not_found: 0, error: 2 } } })
    const report = (await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString() ?? ''
    expect(report).toContain('a,error,dead_letter,0,,"the chunk was refused: baseUrl: host ""10.1.2.3"" is not in ALLOWED_HOSTS"')
    expect(origin.requests).toEqual([])
  })
})
