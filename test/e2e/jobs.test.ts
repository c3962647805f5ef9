import { PutObjectCommand } from '@aws-sdk/client-s3'
import { SendMessageCommand } from '@aws-sdk/client-sqs'
import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { image, jpegBytes, stallHeaders, startOrigin, type Behaviour, type OriginFixture } from '../../devkit/originFixture.ts'
import { pass, type S3Fault } from '../../devkit/s3FaultProxy.ts'
import { expectFinished, JOBS_TEST_PARAMS, JOBS_TEST_QUEUE, jobsOverHttp } from '../support/jobsOverHttp.ts'
import { useLocalStack } from '../support/localStack.ts'
import { until } from '../support/processTree.ts'

// The whole jobs path as `npm start` runs it: serverless-offline (stage local) over HTTP, the local
// S3 (behind a fault proxy), SQS and DynamoDB servers, and the pollers standing in for Lambda's
// event source mappings, with the short timeouts of JOBS_TEST_PARAMS; alone, after the other files
// (vitest.config.ts). (The 20 000-code job has a file of its own, bigJob.test.ts.)
const BUILD_FOLDER = '.esbuild/local-jobs-test'
const FOREVER_MS = 10 * 60_000
const QUEUE = JOBS_TEST_QUEUE

// What the S3 fault proxy does with a request of serverless-offline's functions: passed on, unless a test says otherwise.
let s3Fault: (method: string, url: string) => S3Fault = () => pass
const stack = useLocalStack({ buildFolder: BUILD_FOLDER, params: JOBS_TEST_PARAMS, queue: QUEUE, s3Faults: (method, url) => s3Fault(method, url) })
let origin: OriginFixture | undefined
const { post, jobStatus, untilDone, chunkMessageOf, scheduled } = jobsOverHttp(stack)

afterEach(async () => {
  await origin?.close()
  origin = undefined
  s3Fault = () => pass
})

describe('Jobs over HTTP, through the local stack', () => {
  it('delivers again the chunks of a worker killed mid-chunk, and counts each code once', async () => {
    const codes = Array.from({ length: 250 }, (_, i) => `k${i}`)
    const pixel = jpegBytes(2, 300)
    let firstHit: () => void = () => undefined
    const reached = new Promise<void>((resolve) => (firstHit = resolve))
    const routes: Record<string, Behaviour> = Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(pixel)]))
    // The first request for k5 holds its chunk in the worker until the worker is killed.
    routes['/k5.jpg'] = (res: ServerResponse, req, hit, later) => {
      if (hit > 1) return image(pixel)(res, req, hit, later)
      firstHit()
    }
    origin = await startOrigin(routes)

    const accepted = await post('/jobs', { codes, baseUrl: origin.baseUrl, concurrency: 4, prefix: 'flags/killed/' })
    await reached
    await stack().crashAndRestart()
    const job = await untilDone(String(accepted.json['jobId']), 90_000)

    expect(job).toMatchObject({ chunks: 3, chunksDone: 3, counter: { ok: 250, not_found: 0, error: 0 } })
    expectFinished(job)
    expect(origin.requests.filter((path) => path === '/k5.jpg')).toHaveLength(2)
    expect((await stack().s3.listKeys('flags/killed/')).length).toBe(250)
  }, 180_000)

  it('counts a chunk sent twice once, and drops a chunk that is not in the plan', async () => {
    const codes = Array.from({ length: 150 }, (_, i) => `t${i}`)
    origin = await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(jpegBytes(3, 300))])))
    const accepted = await post('/jobs', { codes, baseUrl: origin.baseUrl, concurrency: 4, prefix: 'flags/twice/' })
    const jobId = String(accepted.json['jobId'])
    const done = await untilDone(jobId, 60_000)

    // The same chunk again, twice, as a retried SendMessageBatch could have sent it; then chunks
    // the plan does not have: past its end, and chunk 0 named at chunk 1's line.
    const chunk = await chunkMessageOf(jobId, 0)
    const second = await chunkMessageOf(jobId, 1)
    const bodies = [chunk, chunk, { ...chunk, chunk: 2 }, { ...chunk, chunk: 99 }, { ...chunk, start: second.start, end: second.end }]
    for (const body of bodies) await stack().sqs.send(new SendMessageCommand({ QueueUrl: stack().queues.queueUrl, MessageBody: JSON.stringify(body) }))
    await until('the copies to be run and deleted', () => stack().queues.pending() === 0, 60_000)

    const after = await jobStatus(jobId)
    expect(after).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 150, not_found: 0, error: 0 }, finishedAt: done.finishedAt })
    expectFinished(after)
    // The copies were taken and deleted, but neither run nor counted: the chunk's outcome was recorded.
    expect(origin.requests.length).toBe(150)
  }, 120_000)

  it('makes one job of a schedule retried with its event id, with the plan it had though its manifest changed', async () => {
    const codes = Array.from({ length: 120 }, (_, i) => `s${i}`)
    origin = await startOrigin(Object.fromEntries([...codes, 'late'].map((code) => [`/${code}.jpg`, image(jpegBytes(6, 300))])))
    const put = (body: string) => stack().s3.client.send(new PutObjectCommand({ Bucket: stack().s3.bucket, Key: 'manifests/daily.txt', Body: body }))
    const detail = { manifest: 'manifests/daily.txt', baseUrl: origin.baseUrl, prefix: 'flags/daily/' }
    await put(codes.join('\n'))

    const first = await scheduled('schedule-retried', detail)
    await put(['late', ...codes.slice(0, 10)].join('\n'))
    const retried = await scheduled('schedule-retried', detail)
    const job = await untilDone(String(first['jobId']), 60_000)

    expect(retried['jobId']).toBe(first['jobId'])
    expect(job).toMatchObject({ total: 120, chunks: 2, counter: { ok: 120, not_found: 0, error: 0 } })
    expectFinished(job)
    expect(origin.requests).not.toContain('/late.jpg')
  }, 120_000)

  it('counts the codes a chunk stored before the deadline cut it, and runs only the rest again', async () => {
    const codes = Array.from({ length: 40 }, (_, i) => `c${i}`)
    const routes: Record<string, Behaviour> = Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(jpegBytes(7, 300))]))
    // Slower than the worker's timeout the first time it is asked for, at once the second.
    routes['/c7.jpg'] = (res: ServerResponse, req, hit, later) => (hit > 1 ? image(jpegBytes(7, 300))(res, req, hit, later) : stallHeaders(FOREVER_MS, image(jpegBytes(7, 300)))(res, req, hit, later))
    origin = await startOrigin(routes)

    const accepted = await post('/jobs', { codes, baseUrl: origin.baseUrl, concurrency: 4, prefix: 'flags/cut/' })
    const job = await untilDone(String(accepted.json['jobId']), 90_000)

    expect(job).toMatchObject({ chunks: 1, counter: { ok: 40, not_found: 0, error: 0 } })
    expectFinished(job)
    // Every image fetched once, but the one the deadline cut: nothing stored was thrown away.
    expect(origin.requests.filter((path) => path !== '/c7.jpg')).toHaveLength(39)
    expect(origin.requests.filter((path) => path === '/c7.jpg')).toHaveLength(2)
  }, 120_000)

  it('waits for a worker still running a chunk whose copy reached the dead-letter queue: the images it stores count ok', async () => {
    const codes = Array.from({ length: 30 }, (_, i) => `r${i}`)
    let slowHit: () => void = () => undefined
    const reached = new Promise<void>((resolve) => (slowHit = resolve))
    const routes: Record<string, Behaviour> = Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(jpegBytes(8, 300))]))
    // Answered after 3 s, within the worker's 6: the copy reaches the dead letters meanwhile.
    routes['/r5.jpg'] = (res: ServerResponse, req, hit, later) => {
      slowHit()
      stallHeaders(3_000, image(jpegBytes(8, 300)))(res, req, hit, later)
    }
    origin = await startOrigin(routes)

    const accepted = await post('/jobs', { codes, baseUrl: origin.baseUrl, concurrency: 2, prefix: 'flags/racing/' })
    const jobId = String(accepted.json['jobId'])
    await reached
    await stack().sqs.send(new SendMessageCommand({ QueueUrl: stack().queues.deadLetterQueueUrl, MessageBody: JSON.stringify(await chunkMessageOf(jobId, 0)) }))
    const job = await untilDone(jobId, 60_000)

    expect(job).toMatchObject({ chunks: 1, counter: { ok: 30, not_found: 0, error: 0 } })
    expectFinished(job)
    expect(origin.requests).toHaveLength(30)
  }, 120_000)

  it('sends a chunk that keeps failing to the dead-letter queue, counts its codes error, and finishes the job', async () => {
    // Origins that never answer: every delivery of the chunk runs out of time and is left for another.
    origin = await startOrigin({ '/stuck1.jpg': stallHeaders(FOREVER_MS, image(jpegBytes(4))), '/stuck2.jpg': stallHeaders(FOREVER_MS, image(jpegBytes(5))) })
    const accepted = await post('/jobs', { codes: ['stuck1', 'stuck2'], baseUrl: origin.baseUrl, prefix: 'flags/poison/' })
    const job = await untilDone(String(accepted.json['jobId']), 90_000)

    expect(job).toMatchObject({ chunks: 1, chunksDone: 1, counter: { ok: 0, not_found: 0, error: 2 } })
    expectFinished(job)
    const report = (await stack().s3.getObject(String(job.reportKey)))?.body.toString() ?? ''
    expect(report).toContain('stuck1,error,dead_letter,0,,the chunk kept failing and went to the dead-letter queue')
    // Delivered as many times as the queue allows before its dead-letter queue took it.
    expect(origin.requests.filter((path) => path === '/stuck1.jpg').length).toBe(QUEUE.maxReceiveCount)
  }, 120_000)

  it('finishes a job whose report S3 refused, once S3 takes it: its finish fails and is delivered again', async () => {
    const codes = Array.from({ length: 20 }, (_, i) => `p${i}`)
    origin = await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(jpegBytes(9, 300))])))
    let refused = 0
    let refusedOnce: () => void = () => undefined
    const reached = new Promise<void>((resolve) => (refusedOnce = resolve))
    // Refused as often as the SDK tries a request (3): the finish itself fails, and SQS delivers it again.
    s3Fault = (method, url) => {
      if (method !== 'PUT' || !url.includes('/reports/') || refused >= 3) return pass
      refused += 1
      if (refused === 3) refusedOnce()
      return { kind: 'status', status: 503, code: 'SlowDown' }
    }

    const accepted = await post('/jobs', { codes: [...codes, 'missing'], baseUrl: origin.baseUrl, concurrency: 4, prefix: 'flags/reported/' })
    const jobId = String(accepted.json['jobId'])
    await reached
    const whileRefused = await jobStatus(jobId)
    const job = await untilDone(jobId, 60_000)

    expect(whileRefused).toMatchObject({ chunksDone: 1, reportKey: null })
    expect(refused).toBe(3)
    expect(job).toMatchObject({ counter: { ok: 20, not_found: 1, error: 0 }, reportKey: `reports/${jobId}.csv` })
    expectFinished(job)
    expect((await stack().s3.getObject(`reports/${jobId}.csv`))?.body.toString()).toContain('missing,not_found,not_found,1,404,not found')
  }, 120_000)

  it('answers bad job requests with 400 or 404 and a JSON message', async () => {
    await stack().s3.client.send(new PutObjectCommand({ Bucket: stack().s3.bucket, Key: 'manifests/bad.txt', Body: 'cn\nfr\n<script>\n' }))
    const tooMany = Array.from({ length: 100_001 }, (_, i) => i.toString(36))

    expect(await post('/jobs', { manifest: 'manifests/bad.txt', codes: ['cn'] })).toEqual({ status: 400, json: { message: 'give either codes or manifest, not both' } })
    expect(await post('/jobs', { manifest: 'manifests/none.txt' })).toEqual({ status: 400, json: { message: 'manifest: no object "manifests/none.txt" in the bucket' } })
    expect(await post('/jobs', { manifest: 'manifests/bad.txt' })).toEqual({
      status: 400,
      json: { message: 'manifest line 3 "<script>": may only contain letters, digits, ".", "_" and "-"' },
    })
    expect(await post('/jobs', { codes: tooMany })).toEqual({ status: 400, json: { message: 'codes: must hold at most 100000 codes' } })
    const unknown = await fetch(`${stack().offline.httpUrl}/jobs/00000000-0000-4000-8000-000000000000`)
    expect([unknown.status, await unknown.json()]).toEqual([404, { message: 'no job 00000000-0000-4000-8000-000000000000 (jobs are kept some days after they finish, then removed)' }])
    const malformed = await fetch(`${stack().offline.httpUrl}/jobs/not-a-job`)
    expect([malformed.status, await malformed.json()]).toEqual([400, { message: 'jobId: must be the id POST /jobs answered (a lower-case UUID)' }])
  })
})
