// The jobs part of `npm run bench`: a job of BENCH_CODES codes (default 20 000) through the whole
// local stack, as `npm start` runs it (serverless-offline, the local S3, SQS and DynamoDB servers,
// the queue pollers), from an origin answering every image after BENCH_LATENCY_MS (default 50).
// Its time from POST /jobs to done, against the least any design could take at the same caps:
// ceil(N / (M x C)) x L, with M workers (the queue's maximum concurrency) of C requests each; and
// what it cost the table per chunk. BENCH_PATHS=default or forced runs that path alone.
import { SQSClient } from '@aws-sdk/client-sqs'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { untilPrinted } from '../devkit/processes.ts'
import { startLocalQueues, startLocalTable } from '../devkit/localJobs.ts'
import { LOCAL_S3, startLocalS3 } from '../devkit/localS3.ts'
import { image, jpegBytes, startOrigin } from '../devkit/originFixture.ts'
import { startJobPollers } from '../devkit/queuePoller.ts'
import { localJobsSettings } from '../devkit/serverlessConfig.ts'

const CODES = Number(process.env['BENCH_CODES'] ?? 20_000)
const WRITE_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']
// The chunk size: the template's default, unless BENCH_CHUNK_SIZE says otherwise.
const CHUNK_SIZE = process.env['BENCH_CHUNK_SIZE']
const CONCURRENCY = 8
const LATENCY_MS = Number(process.env['BENCH_LATENCY_MS'] ?? 50)
const HTTP_PORT = 3300
const LAMBDA_PORT = 3302
const projectRoot = fileURLToPath(new URL('..', import.meta.url))
const serverlessBin = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url))

const directory = await mkdtemp(join(tmpdir(), 'imgpull-bench-jobs-'))
const s3 = await startLocalS3({ port: 0, directory, buckets: [LOCAL_S3.bucket] })
const settings = await localJobsSettings()
const queues = await startLocalQueues(0, settings.queue)
const table = await startLocalTable(0)
const codes = Array.from({ length: CODES }, (_, i) => `b${i}`)
const pixel = jpegBytes(1, 300)
const origin = await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(pixel, { delayMs: LATENCY_MS })])))
const offline = spawn(
  process.execPath,
  [
    serverlessBin,
    'offline',
    'start',
    '--stage',
    'local',
    ...(CHUNK_SIZE === undefined ? [] : [`--param=chunkSize=${CHUNK_SIZE}`]),
    '--httpPort',
    String(HTTP_PORT),
    '--lambdaPort',
    String(LAMBDA_PORT),
  ],
  {
    cwd: projectRoot,
    detached: true,
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      IMGPULL_LOCAL_S3_ENDPOINT: s3.endpoint,
      IMGPULL_LOCAL_SQS_ENDPOINT: queues.endpoint,
      IMGPULL_LOCAL_DYNAMODB_ENDPOINT: table.endpoint,
      IMGPULL_BUILD_FOLDER: '.esbuild/local-bench',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  },
)
const sqs = new SQSClient({ endpoint: queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
try {
  await untilPrinted(offline, 'serverless-offline', 'Server ready')
  const pollers = startJobPollers({ sqs, queues, settings, lambdaUrl: `http://127.0.0.1:${LAMBDA_PORT}` })
  const poller = pollers[0]!

  const workers = settings.worker.maxConcurrency
  const floorMs = Math.ceil(CODES / (workers * CONCURRENCY)) * LATENCY_MS
  const rows = []
  // The default path (a listing of each chunk's key range, then GET and PUT), then forced (GET and PUT).
  const paths = ({ '': [false, true], default: [false], forced: [true] } as Record<string, boolean[]>)[process.env['BENCH_PATHS'] ?? '']
  if (paths === undefined) throw new Error(`BENCH_PATHS must be default or forced (or unset, for both), got "${process.env['BENCH_PATHS']}"`)
  for (const force of paths) {
    const startedAt = performance.now()
    const invocationsBefore = poller.stats.invocations
    const tableBefore = table.stats()
    const response = await fetch(`http://127.0.0.1:${HTTP_PORT}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ codes, baseUrl: origin.baseUrl, concurrency: CONCURRENCY, prefix: `flags/bench-job-${String(force)}/`, force }),
    })
    const accepted = (await response.json()) as { jobId: string; chunks: number; maxOriginRequests: number }
    const acceptedMs = performance.now() - startedAt
    let job: { state: string; counter: Record<string, number> } | undefined
    // Bounded: a job not done in ten minutes (more for a larger job) is a failure of the benchmark.
    for (let poll = 0; poll < Math.max(3000, CODES / 10) && job?.state !== 'done'; poll += 1) {
      await sleep(200)
      job = (await (await fetch(`http://127.0.0.1:${HTTP_PORT}/jobs/${accepted.jobId}`)).json()) as typeof job
    }
    const elapsedMs = performance.now() - startedAt
    if (job?.state !== 'done') throw new Error(`job not done: ${JSON.stringify(job)}`)
    const tableAfter = table.stats()
    // The writes alone: the status reads of this loop (one per 200 ms) would swamp the rest.
    const writeRequestsOf = (stats: typeof tableAfter) => WRITE_OPERATIONS.reduce((sum, operation) => sum + (stats.requests[operation] ?? 0), 0)
    rows.push({
      path: force ? 'forced' : 'default',
      chunks: accepted.chunks,
      'accepted in ms': Math.round(acceptedMs),
      'done in ms': Math.round(elapsedMs),
      'floor ms: ceil(N/(M×C))×L': floorMs,
      '× floor': Number((elapsedMs / floorMs).toFixed(2)),
      'max in flight (promised)': `${origin.maxInFlight} (${accepted.maxOriginRequests})`,
      invocations: poller.stats.invocations - invocationsBefore,
      'table items written per chunk': Number(((tableAfter.itemsWritten - tableBefore.itemsWritten) / accepted.chunks).toFixed(2)),
      'table write requests per chunk': Number(((writeRequestsOf(tableAfter) - writeRequestsOf(tableBefore)) / accepted.chunks).toFixed(2)),
      counter: JSON.stringify(job.counter),
    })
  }
  await Promise.all(pollers.map((each) => each.stop()))
  console.log(`jobs: ${CODES} codes, L=${LATENCY_MS} ms, M=${workers} workers x C=${CONCURRENCY}, ${settings.worker.batchSize} chunk per invocation`)
  console.table(rows)
} finally {
  try {
    process.kill(-(offline.pid ?? 0), 'SIGTERM')
  } catch {
    // Already gone.
  }
  sqs.destroy()
  await Promise.allSettled([origin.close(), queues.close(), table.close(), s3.close()])
  await rm(directory, { recursive: true, force: true })
}
process.exit(0)
