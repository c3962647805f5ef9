import { afterEach, describe, expect, it } from 'vitest'
import { image, jpegBytes, startOrigin, status, type Behaviour, type OriginFixture } from '../../devkit/originFixture.ts'
import { expectFinished, JOBS_TEST_PARAMS, JOBS_TEST_QUEUE, jobsOverHttp } from '../support/jobsOverHttp.ts'
import { useLocalStack } from '../support/localStack.ts'

// A job of 20 000 codes through the whole jobs path as `npm start` runs it (serverless-offline over
// HTTP, the local S3, SQS and DynamoDB servers, the pollers), with the short timeouts of the jobs
// tests. It runs alone, after the other files (vitest.config.ts): it needs the CPU to itself.
// Forced, so no chunk lists its key range first: the local S3 server answers a listing by walking
// every object it holds, which made this file take 92 s rather than 51 s; S3's listing costs the
// same whatever the bucket holds. The listing path runs over HTTP in jobs.test.ts, and at this
// size in `npm run bench:jobs`.
const BUILD_FOLDER = '.esbuild/local-big-job-test'

const stack = useLocalStack({ buildFolder: BUILD_FOLDER, params: JOBS_TEST_PARAMS, queue: JOBS_TEST_QUEUE })
let origin: OriginFixture | undefined
const { post, untilDone } = jobsOverHttp(stack)

afterEach(async () => {
  await origin?.close()
  origin = undefined
})

describe('A large job over HTTP, through the local stack', () => {
  it('runs a 20 000-code job: every code counted once, one object per ok code, the origin never over maxOriginRequests', async () => {
    const codes = Array.from({ length: 20_000 }, (_, i) => `j${i}`)
    const pixel = jpegBytes(1, 300)
    // Every 100th code is missing at the origin (404); every 500th, from the 250th, always fails (500).
    const routes: Record<string, Behaviour> = {}
    codes.forEach((code, i) => {
      if (i % 100 === 0) return
      routes[`/${code}.jpg`] = i % 500 === 250 ? status(500) : image(pixel)
    })
    origin = await startOrigin(routes)

    const accepted = await post('/jobs', { codes, baseUrl: origin.baseUrl, concurrency: 8, prefix: 'flags/big/', force: true })
    expect(accepted.status).toBe(202)
    expect(accepted.json).toMatchObject({ state: 'queued', total: 20_000, chunks: 200, maxOriginRequests: stack().settings.worker.maxConcurrency * 8 })
    const job = await untilDone(String(accepted.json['jobId']), 240_000)

    expect(job).toMatchObject({ total: 20_000, chunks: 200, chunksDone: 200, counter: { ok: 19_760, not_found: 200, error: 40 } })
    expectFinished(job)
    expect(origin.maxInFlight).toBeLessThanOrEqual(Number(accepted.json['maxOriginRequests']))
    expect((await stack().s3.listKeys('flags/big/')).length).toBe(19_760)
    const report = (await stack().s3.getObject(String(job.reportKey)))?.body.toString().trim().split('\n') ?? []
    expect(report).toHaveLength(1 + 240)
    expect(report.filter((line) => line.includes(',error,http_500,3,500,'))).toHaveLength(40)
  }, 300_000)

})
