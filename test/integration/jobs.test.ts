import { PutObjectCommand } from '@aws-sdk/client-s3'
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs'
import type { S3Client } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { loadDeadLettersConfig } from '../../lib/config/deadLetters.ts'
import { loadJobsConfig } from '../../lib/config/jobs.ts'
import { loadJobStatusConfig } from '../../lib/config/jobStatus.ts'
import { loadWorkerConfig } from '../../lib/config/worker.ts'
import { ValidationError } from '../../lib/errors.ts'
import { QueueSendFailed } from '../../lib/adapters/sqs/jobQueue.ts'
import { ChunkIncomplete } from '../../lib/jobs/errors.ts'
import type { JobStatus } from '../../lib/jobs/job.ts'
import type { ChunkMessage } from '../../lib/jobs/messages.ts'
import { composeDeadLetters } from '../../lib/wiring/deadLetters.ts'
import { composeJobs } from '../../lib/wiring/jobs.ts'
import { composeJobStatus } from '../../lib/wiring/jobStatus.ts'
import { composeWorker } from '../../lib/wiring/worker.ts'
import { image, jpegBytes, stallHeaders, startOrigin, status, type OriginFixture } from '../../devkit/originFixture.ts'
import { pass, startS3FaultProxy } from '../../devkit/s3FaultProxy.ts'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs'
import { useJobServers } from '../support/localJobs.ts'
import { useIntegrationServers } from '../support/localS3.ts'

const servers = useIntegrationServers()
const jobServers = useJobServers()
const FOREVER_MS = 10 * 60_000

/** The jobs functions' work, each composed as its handler composes it, on the local servers. */
function jobsFor(origin: OriginFixture, env: Record<string, string> = {}, clients: { s3Client?: S3Client; sqs?: SQSClient } = {}) {
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
    // No fan-out check comes due while a test runs: each test delivers what it needs itself.
    FAN_OUT_CHECK_SECONDS: '900',
    HEADERS_TIMEOUT_MS: '1000',
    RETRY_BASE_DELAY_MS: '5',
    ...env,
  }
  const s3 = { s3Client: clients.s3Client ?? servers.s3.client, ...(clients.sqs === undefined ? {} : { sqs: clients.sqs }) }
  return {
    start: composeJobs(loadJobsConfig(local), s3),
    status: composeJobStatus(loadJobStatusConfig(local)),
    runMessage: composeWorker(loadWorkerConfig(local), s3),
    countDeadLetter: composeDeadLetters(loadDeadLettersConfig(local), s3),
  }
}

const sqs = () => new SQSClient({ endpoint: jobServers.queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })

/** Every message waiting in the jobs queue (delayed ones aside), taken and deleted; waiting up to `waitSeconds` for the first. */
async function takeAll(waitSeconds = 0): Promise<Message[]> {
  const client = sqs()
  const messages: Message[] = []
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: jobServers.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: messages.length === 0 ? waitSeconds : 0 }),
    )
    if (Messages.length === 0) break
    for (const message of Messages) await client.send(new DeleteMessageCommand({ QueueUrl: jobServers.queues.queueUrl, ReceiptHandle: message.ReceiptHandle }))
    messages.push(...Messages)
  }
  client.destroy()
  return messages
}

type Jobs = ReturnType<typeof jobsFor>

/** Runs what the queue holds, and what that sends, until nothing is left: the workers' part of a job. */
async function drain(jobs: Jobs, waitSeconds = 0): Promise<string[]> {
  const run: string[] = []
  for (let round = 0; round < 50; round += 1) {
    const messages = await takeAll(round === 0 ? waitSeconds : 0)
    if (messages.length === 0) break
    for (const message of messages) {
      run.push(message.Body ?? '')
      await jobs.runMessage(message.Body ?? '')
    }
  }
  return run
}

const chunksOf = (bodies: readonly string[]) => bodies.map((body) => JSON.parse(body) as ChunkMessage).filter((message) => message.kind === 'chunk')
const sum = (job: JobStatus) => job.counter.ok + job.counter.not_found + job.counter.error

async function expectFinished(jobs: Jobs, jobId: string): Promise<JobStatus> {
  const job = await jobs.status({ jobId })
  expect(job).toMatchObject({ state: 'done', chunksDone: job.chunks })
  expect(sum(job)).toBe(job.total)
  return job
}

function originOf(codes: readonly string[], extra: Record<string, ReturnType<typeof image>> = {}) {
  return startOrigin({ ...Object.fromEntries(codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i, 500))])), ...extra })
}

describe('Jobs through the local DynamoDB, SQS and S3', () => {
  it('stores the plan, queues a job in chunks, counts every code once, and writes the report of its failures', async () => {
    const good = Array.from({ length: 30 }, (_, i) => `g${i}`)
    const origin = servers.track(await originOf(good, { '/broken.jpg': status(500) }))
    const jobs = jobsFor(origin)

    const accepted = await jobs.start({ codes: [...good, 'missing1', 'broken', 'missing2', 'G0'], prefix: 'flags/job1/', concurrency: 4 }, (id) => `/jobs/${id}`)
    const run = await drain(jobs)

    expect(accepted).toMatchObject({ state: 'queued', total: 33, chunks: 4, statusUrl: `/jobs/${accepted.jobId}` })
    // Four chunks, at most 10 workers: the origin sees at most min(10, 4) x 4 requests at once.
    expect(accepted.maxOriginRequests).toBe(16)
    expect(chunksOf(run)).toHaveLength(4)
    expect(run.map((body) => (JSON.parse(body) as { kind: string }).kind)).toEqual(['chunk', 'chunk', 'chunk', 'chunk', 'finish'])
    const job = await expectFinished(jobs, accepted.jobId)
    expect(job).toMatchObject({ total: 33, chunks: 4, counter: { ok: 30, not_found: 2, error: 1 }, reportKey: `reports/${accepted.jobId}.csv` })
    expect((await servers.s3.listKeys('flags/job1/')).length).toBe(30)
    expect((await servers.s3.listKeys(`plans/${accepted.jobId}/`)).length).toBe(2)
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

    await jobs.runMessage(first?.Body ?? '')
    const again = await jobs.runMessage(first?.Body ?? '')
    await jobs.runMessage(second?.Body ?? '')
    await drain(jobs)

    expect(again).toMatchObject({ kind: 'done', what: 'chunk 0 part 0 counted before' })
    expect(await expectFinished(jobs, accepted.jobId)).toMatchObject({ chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
    expect(origin.requests).toHaveLength(15)
  })

  it('counts the codes a chunk finished before the deadline cut it, and sends the rest on', async () => {
    const codes = Array.from({ length: 5 }, (_, i) => `f${i}`)
    const origin = servers.track(await originOf(codes, { '/slow.jpg': stallHeaders(FOREVER_MS, image(jpegBytes(1))) }))
    const jobs = jobsFor(origin, { DEADLINE_RESERVE_MS: '100', HEADERS_TIMEOUT_MS: '30000' })
    const accepted = await jobs.start({ codes: [...codes, 'slow'], prefix: 'flags/cut/' }, (id) => id)
    const [message] = await takeAll()

    const cut = await jobs.runMessage(message?.Body ?? '', { remainingMs: () => 1500 })
    const [rest] = await takeAll()

    expect(cut).toMatchObject({ kind: 'done', what: 'chunk 0 part 0 counted, 1 codes cut short sent on' })
    expect(JSON.parse(rest?.Body ?? '{}')).toMatchObject({ kind: 'chunk', chunk: 0, part: 1 })
    expect(await jobs.status({ jobId: accepted.jobId })).toMatchObject({ state: 'running', chunksDone: 0, counter: { ok: 5, not_found: 0, error: 0 } })
    // The rest, cut again before it finished anything: not counted, to be delivered again.
    await expect(jobs.runMessage(rest?.Body ?? '', { remainingMs: () => 300 })).rejects.toBeInstanceOf(ChunkIncomplete)
    expect(await jobs.status({ jobId: accepted.jobId })).toMatchObject({ chunksDone: 0, counter: { ok: 5 } })
  })

  it('counts the codes of a dead-lettered chunk as error unless a delivery stored them, and still finishes the job', async () => {
    const codes = Array.from({ length: 12 }, (_, i) => `p${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin)
    const accepted = await jobs.start({ codes, prefix: 'flags/poison/' }, (id) => id)
    const [first, second] = await takeAll()
    // One image of the dead chunk was stored by a delivery that died before counting it.
    await servers.s3.client.send(new PutObjectCommand({ Bucket: servers.s3.bucket, Key: 'flags/poison/p8.jpg', Body: jpegBytes(8) }))

    await jobs.runMessage(first?.Body ?? '')
    const dead = await jobs.countDeadLetter(second?.Body ?? '')
    const notAChunk = await jobs.countDeadLetter('{"hello":1}')
    await drain(jobs)

    expect(dead).toMatchObject({ kind: 'done', what: 'chunk 1 part 0 counted' })
    expect(notAChunk).toMatchObject({ kind: 'dropped' })
    expect(await expectFinished(jobs, accepted.jobId)).toMatchObject({ counter: { ok: 11, not_found: 0, error: 1 } })
    const report = (await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString() ?? ''
    // Chunks are cut in key order: p0, p1, p10, p11, p2 … p7, then p8, p9.
    expect(report).toContain('p9,error,dead_letter,0,,the chunk kept failing and went to the dead-letter queue')
    expect(report).not.toContain('p8,')
  })

  it('drops a message that names no part of the plan, changing nothing', async () => {
    const codes = Array.from({ length: 15 }, (_, i) => `x${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin)
    const accepted = await jobs.start({ codes, prefix: 'flags/forged/' }, (id) => id)
    const [first, second] = (await takeAll()).map((message) => JSON.parse(message.Body ?? '{}') as ChunkMessage)
    if (first === undefined || second === undefined) throw new Error('two chunks were queued')

    const forged = [
      { ...first, chunk: 2 },
      { ...first, chunk: 99 },
      // Chunk 0 at chunk 1's line of the plan.
      { ...first, start: second.start, end: second.end },
      { ...first, end: first.end + 3 },
      { ...first, part: 1 },
    ]
    const results = await Promise.all(forged.map((message) => jobs.runMessage(JSON.stringify(message))))

    expect(results.map((result) => result.kind)).toEqual(['dropped', 'dropped', 'dropped', 'dropped', 'dropped'])
    expect(await jobs.status({ jobId: accepted.jobId })).toMatchObject({ chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 } })
    expect(origin.requests).toEqual([])
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

  it('fails a job whose queue refuses its messages before storing it: nothing is accepted that could not finish', async () => {
    const codes = Array.from({ length: 15 }, (_, i) => `q${i}`)
    const origin = servers.track(await originOf(codes))
    const jobs = jobsFor(origin, { JOBS_QUEUE_URL: `${jobServers.queues.endpoint}/000000000000/no-such-queue` })

    await expect(jobs.start({ codes, prefix: 'flags/unqueued/' }, (id) => id, 'unqueued-request')).rejects.toBeInstanceOf(QueueSendFailed)
    // Tried again once the queue is there: the same request id, one job, which finishes.
    const queued = jobsFor(origin)
    const accepted = await queued.start({ codes, prefix: 'flags/unqueued/' }, (id) => id, 'unqueued-request')
    await drain(queued)
    expect(await expectFinished(queued, accepted.jobId)).toMatchObject({ counter: { ok: 15, not_found: 0, error: 0 } })
  })

  it('makes one job of a request retried with its id, with the plan it had though its manifest changed', async () => {
    const codes = Array.from({ length: 15 }, (_, i) => `r${i}`)
    const origin = servers.track(await originOf([...codes, 'late']))
    const jobs = jobsFor(origin)
    const put = (body: string) => servers.s3.client.send(new PutObjectCommand({ Bucket: servers.s3.bucket, Key: 'manifests/retried.txt', Body: body }))
    await put(codes.join('\n'))

    const first = await jobs.start({ manifest: 'manifests/retried.txt', prefix: 'flags/retried/' }, (id) => id, 'schedule-event-1')
    await put(['late', ...codes.slice(5)].join('\n'))
    const retried = await jobs.start({ manifest: 'manifests/retried.txt', prefix: 'flags/retried/' }, (id) => id, 'schedule-event-1')
    const other = await jobs.start({ manifest: 'manifests/retried.txt', prefix: 'flags/retried/' }, (id) => id, 'schedule-event-2')
    const run = await drain(jobs)

    expect(retried).toEqual(first)
    expect(other.jobId).not.toBe(first.jobId)
    expect(chunksOf(run)).toHaveLength(4)
    expect(await expectFinished(jobs, first.jobId)).toMatchObject({ total: 15, chunksDone: 2, counter: { ok: 15, not_found: 0, error: 0 } })
    expect(await expectFinished(jobs, other.jobId)).toMatchObject({ total: 11, counter: { ok: 11 } })
    // Each image fetched once per job: the first job never saw the changed manifest.
    expect(origin.requests.filter((path) => path === '/late.jpg')).toHaveLength(1)
  })

  it('counts at once a chunk the rules refuse when it comes to run, rather than leaving it to the dead-letter queue', async () => {
    const origin = servers.track(await originOf(['a']))
    const jobs = jobsFor(origin)
    const accepted = await jobs.start({ codes: ['a', 'b'], prefix: 'flags/refused/' }, (id) => id)
    // The rules changed between the planning and the run: the origin is no longer allowed.
    const stricter = jobsFor(origin, { STAGE: 'dev', BASE_URL: 'https://images.example.org/flags', ALLOWED_HOSTS: 'images.example.org' })

    const [message] = await takeAll()
    await stricter.runMessage(message?.Body ?? '')
    await drain(jobs)

    expect(await expectFinished(jobs, accepted.jobId)).toMatchObject({ counter: { ok: 0, not_found: 0, error: 2 } })
    const report = (await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString() ?? ''
    expect(report).toMatch(/^a,error,dead_letter,0,,"?the chunk was refused: /m)
    expect(origin.requests).toEqual([])
  })

  it('finishes a job whose report could not be written once S3 takes it: the finish is delivered again', async () => {
    const codes = Array.from({ length: 12 }, (_, i) => `w${i}`)
    const origin = servers.track(await originOf(codes))
    let refuseReports = true
    const proxy = servers.track(
      await startS3FaultProxy(servers.s3.endpoint, (method, url) => (refuseReports && method === 'PUT' && url.includes('/reports/') ? { kind: 'status', status: 503, code: 'SlowDown' } : pass)),
    )
    const s3Client = createS3Client({ localEndpoint: proxy.endpoint })
    const jobs = jobsFor(origin, { LOCAL_S3_ENDPOINT: proxy.endpoint, MAX_ATTEMPTS: '1' }, { s3Client })
    const accepted = await jobs.start({ codes: [...codes, 'missing'], prefix: 'flags/report/' }, (id) => id)

    const [first, second] = await takeAll()
    await jobs.runMessage(first?.Body ?? '')
    await jobs.runMessage(second?.Body ?? '')
    const [finish] = await takeAll()
    await expect(jobs.runMessage(finish?.Body ?? '')).rejects.toThrow()
    const refused = await jobs.status({ jobId: accepted.jobId })
    refuseReports = false
    await jobs.runMessage(finish?.Body ?? '')

    expect(refused).toMatchObject({ state: 'running', chunksDone: 2, reportKey: null })
    expect(await expectFinished(jobs, accepted.jobId)).toMatchObject({ counter: { ok: 12, not_found: 1, error: 0 }, reportKey: `reports/${accepted.jobId}.csv` })
    expect((await servers.s3.getObject(`reports/${accepted.jobId}.csv`))?.body.toString()).toContain('missing,not_found,not_found,1,404,not found')
    s3Client.destroy()
  })

  it('takes up the fan-out of a planner that died midway from its last checkpoint, and the job finishes with every code once', async () => {
    const codes = Array.from({ length: 350 }, (_, i) => `f${String(i).padStart(3, '0')}`)
    const origin = servers.track(await originOf(codes))
    // The planner's queue dies after the check and 150 chunks: mid-way through its second hundred.
    let sent = 0
    const dying = sqs()
    const send = dying.send.bind(dying) as (command: unknown) => Promise<unknown>
    Object.assign(dying, {
      send: async (command: unknown) => {
        if (command instanceof SendMessageBatchCommand) {
          sent += command.input.Entries?.length ?? 0
          if (sent > 151) throw new Error('the planner died')
        }
        return send(command)
      },
    })
    const env = { CHUNK_SIZE: '1', MAX_JOB_CODES: '1000', FAN_OUT_CHECK_SECONDS: '1' }
    const planner = jobsFor(origin, env, { sqs: dying })
    const jobs = jobsFor(origin, env)

    await expect(planner.start({ codes, prefix: 'flags/resumed/' }, (id) => id, 'resumed-request')).rejects.toThrow('the planner died')
    const { jobId } = await jobs.start({ codes, prefix: 'flags/resumed/' }, (id) => id, 'resumed-request')
    const beforeCheck = await drain(jobs)
    // The check, due a second after the planner queued it, takes the fan-out up.
    let afterCheck: string[] = []
    for (let wait = 0; wait < 10 && afterCheck.length === 0; wait += 1) afterCheck = await drain(jobs, 1)

    const chunks = chunksOf([...beforeCheck, ...afterCheck]).map((message) => message.chunk)
    expect(new Set(chunks).size).toBe(350)
    // Sent again: at most the chunks past the last checkpoint (100) that the planner had sent.
    expect(chunks.length - 350).toBeLessThanOrEqual(50)
    expect(await expectFinished(jobs, jobId)).toMatchObject({ total: 350, chunks: 350, counter: { ok: 350, not_found: 0, error: 0 } })
    expect(origin.requests).toHaveLength(350)
    dying.destroy()
  })
})
