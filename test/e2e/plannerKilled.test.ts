import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { afterAll, describe, expect, it } from 'vitest'
import { dynamoJobStore } from '../../lib/adapters/dynamodb/jobStore.ts'
import { startOrigin, type OriginFixture } from '../../devkit/originFixture.ts'
import { pass, type S3Fault } from '../../devkit/s3FaultProxy.ts'
import { LOCAL_JOBS } from '../../devkit/localJobs.ts'
import { expectFinished, JOBS_TEST_PARAMS, JOBS_TEST_QUEUE, jobsOverHttp } from '../support/jobsOverHttp.ts'
import { useLocalStack } from '../support/localStack.ts'

// A job of 100 000 codes whose planner is killed, with its serverless-offline, in the middle of its
// fan-out. Alone, after the other files (vitest.config.ts), like the other jobs files. Chunks of
// 500 codes (200 chunks, two checkpoints of the fan-out): at 100 codes, the worker invocations of
// 1000 chunks take serverless-offline a minute more, and test nothing more.
const BUILD_FOLDER = '.esbuild/local-planner-killed-test'
const CODES = 100_000
const CHUNKS = CODES / 500
// The fan-out's check, then its first checkpoint of 100 chunks in batches of ten: the planner is
// stopped at its next send, with chunk 100 onwards never sent.
const SENDS_BEFORE_THE_KILL = 1 + 10

let killing = false
let sendsWhileKilling = 0
let stalled: () => void = () => undefined
const sendFault = (action: string): S3Fault => {
  if (!killing || action !== 'AmazonSQS.SendMessageBatch') return pass
  sendsWhileKilling += 1
  if (sendsWhileKilling <= SENDS_BEFORE_THE_KILL) return pass
  stalled()
  return { kind: 'stall' }
}
// Five deliveries before the dead-letter queue, as on AWS, not the jobs tests' three: a chunk
// taken while serverless-offline restarts loses its deliveries until it is up again, and a slow
// restart must not send a chunk of codes never tried to the dead-letter queue.
const QUEUE = { ...JOBS_TEST_QUEUE, maxReceiveCount: 5 }
const stack = useLocalStack({ buildFolder: BUILD_FOLDER, params: { ...JOBS_TEST_PARAMS, chunkSize: '500' }, queue: QUEUE, sqsFaults: sendFault })
const { jobStatus, untilDone, scheduled } = jobsOverHttp(stack)
let origin: OriginFixture | undefined

afterAll(async () => {
  await origin?.close()
})

describe('A planner killed mid-fan-out, over HTTP through the local stack', () => {
  it('still finishes its 100 000-code job, every code counted once, and a retried schedule finds that job', async () => {
    // Every code is missing at the origin: the test is of the jobs path, not of storing images.
    origin = await startOrigin({})
    const codes = Array.from({ length: CODES }, (_, i) => `p${i}`)
    const manifest = 'manifests/hundred-thousand.txt'
    await stack().s3.client.send(new PutObjectCommand({ Bucket: stack().s3.bucket, Key: manifest, Body: `${codes.join('\n')}\n` }))
    const detail = { manifest, baseUrl: origin.baseUrl, concurrency: 16, prefix: 'flags/hundred-thousand/' }

    const reachedTheKill = new Promise<void>((resolve) => (stalled = resolve))
    killing = true
    const planning = scheduled('planner-killed', detail).then(
      () => 'answered',
      () => 'killed',
    )
    await reachedTheKill
    // The plan is stored before the job, under the job's id.
    const [planKey] = await stack().s3.listKeys('plans/')
    const jobId = String(planKey?.split('/')[1])
    const store = dynamoJobStore(tableClient(), LOCAL_JOBS.table, { ttlDays: 30 })
    expect(await store.record(jobId)).toMatchObject({ chunks: CHUNKS, chunksSent: 100 })

    await stack().crashAndRestart()
    killing = false
    expect(await planning).toBe('killed')

    // EventBridge invokes a schedule's target asynchronously, and Lambda tries a failed invocation
    // again with the same event: one job, the one the killed planner stored.
    const retried = await scheduled('planner-killed', detail)
    expect(retried).toMatchObject({ jobId, total: CODES, chunks: CHUNKS })
    const job = await untilDone(jobId, 180_000)

    expect(job).toMatchObject({ total: CODES, chunks: CHUNKS, chunksDone: CHUNKS, counter: { ok: 0, not_found: CODES, error: 0 } })
    expectFinished(job)
    expect(new Set(origin.requests).size).toBe(CODES)
    const report = (await stack().s3.getObject(String(job.reportKey)))?.body.toString().trim().split('\n') ?? []
    expect(report).toHaveLength(1 + CODES)
    expect(await jobStatus(jobId)).toEqual(job)
  }, 240_000)
})

function tableClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack().table.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }))
}
