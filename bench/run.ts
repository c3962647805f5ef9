// `npm run bench`: the engine's speed, memory and cold start, measured on loopback.
// Every batch runs in a fresh process (bench/downloadWorker.ts) against an origin and a local S3
// served from this one, so the numbers belong to the engine alone. Prints a table per part and
// writes bench/results.json. Environment knobs: BENCH_LATENCY_MS (default 50) for the latency
// scenarios, BENCH_IMAGE_BYTES (default 20000) for the throughput scenario.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalS3, type LocalS3 } from '../devkit/localS3.ts'
import { image, jpegBytes, startOrigin } from '../devkit/originFixture.ts'
import { measureColdStart, packageService } from './coldStart.ts'
import { runWorker } from './worker.ts'

const MiB = 1024 * 1024
const BUCKET = 'imgpull-bench'
const LATENCY_MS = Number(process.env['BENCH_LATENCY_MS'] ?? 50)
const IMAGE_BYTES = Number(process.env['BENCH_IMAGE_BYTES'] ?? 20_000)

interface BatchSpec {
  readonly codes: number
  readonly concurrency: number
  readonly latencyMs: number
  readonly imageBytes: number
  readonly fetchOnly?: boolean
  readonly maxImageBytes?: number
  /** Run the packaged Lambda handler rather than the engine from source. */
  readonly bundledHandler?: string
}

/** Runs one batch against a fresh origin; reports the worker's figures and what the origin saw. */
async function runBatch(s3: LocalS3, name: string, spec: BatchSpec) {
  const bytes = jpegBytes(1, spec.imageBytes)
  const codes = Array.from({ length: spec.codes }, (_, i) => `${name}-${i}`)
  const origin = await startOrigin(
    Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(bytes, spec.latencyMs > 0 ? { delayMs: spec.latencyMs } : {})])),
  )
  try {
    const env = {
      BUCKET_NAME: BUCKET,
      BASE_URL: origin.baseUrl,
      LOCAL_S3_ENDPOINT: s3.endpoint,
      STAGE: 'local',
      MAX_CODES: String(spec.codes),
      MAX_IMAGE_BYTES: String(spec.maxImageBytes ?? 10 * MiB),
      ...(spec.fetchOnly === true ? { IMGPULL_BENCH_SINK: 'discard' } : {}),
      ...(spec.bundledHandler === undefined ? {} : { IMGPULL_BENCH_HANDLER: spec.bundledHandler }),
    }
    const request = { codes, concurrency: spec.concurrency, prefix: `flags/bench/${name}/` }
    const run = await runWorker(env, request)
    if (run.result.counter.ok !== spec.codes) throw new Error(`${name}: ${JSON.stringify(run.result.counter)}`)
    return { ...run, maxInFlight: origin.maxInFlight }
  } finally {
    await origin.close()
  }
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits))

const directory = await mkdtemp(join(tmpdir(), 'imgpull-bench-'))
const s3 = await startLocalS3({ port: 0, directory, buckets: [BUCKET] })
const service = await packageService()
try {
  console.log('latency-bound batches (target: elapsed / ideal ≤ 1.10)')
  const latency = []
  for (const [name, codes, concurrency] of [
    ['latency', 1000, 50],
    ['original', 200, 3],
  ] as const) {
    const run = await runBatch(s3, name, { codes, concurrency, latencyMs: LATENCY_MS, imageBytes: IMAGE_BYTES })
    const idealMs = Math.ceil(codes / concurrency) * LATENCY_MS
    latency.push({
      scenario: name,
      N: codes,
      C: concurrency,
      'L ms': LATENCY_MS,
      'elapsed ms': Math.round(run.elapsedMs),
      'ideal ms': idealMs,
      ratio: round(run.elapsedMs / idealMs),
      'max in flight': run.maxInFlight,
      'worker CPU ms': Math.round(run.cpuMs),
    })
  }
  console.table(latency)

  console.log('throughput (target: with S3 ≥ 70 % of fetch-only)')
  const spec = { codes: 5000, concurrency: 100, latencyMs: 0, imageBytes: IMAGE_BYTES }
  const fetchOnly = await runBatch(s3, 'fetchonly', { ...spec, fetchOnly: true })
  const stored = await runBatch(s3, 'throughput', spec)
  const rate = (run: { elapsedMs: number }) => (spec.codes * 1000) / run.elapsedMs
  const throughput = [
    { scenario: 'fetch only (baseline)', run: fetchOnly },
    { scenario: 'fetch and store in S3', run: stored },
  ].map(({ scenario, run }) => ({
    scenario,
    N: spec.codes,
    C: spec.concurrency,
    'elapsed ms': Math.round(run.elapsedMs),
    'images/s': Math.round(rate(run)),
    'MB/s': round((rate(run) * spec.imageBytes) / 1e6),
    'of baseline': `${Math.round((rate(run) / rate(fetchOnly)) * 100)} %`,
    'worker CPU ms': Math.round(run.cpuMs),
  }))
  console.table(throughput)

  console.log('memory: the packaged handler, as Lambda runs it (target: peak RSS < 256 MiB)')
  const memoryRun = await runBatch(s3, 'memory', {
    codes: 20,
    concurrency: 4,
    latencyMs: 0,
    imageBytes: 50 * MiB,
    maxImageBytes: 64 * MiB,
    bundledHandler: service.handler('download'),
  })
  const memory = {
    scenario: '20 × 50 MiB, C=4',
    'elapsed ms': Math.round(memoryRun.elapsedMs),
    'idle RSS MiB': round(memoryRun.idleRssBytes / MiB, 1),
    'peak RSS MiB': round(memoryRun.peakRssBytes / MiB, 1),
    'worker CPU ms': Math.round(memoryRun.cpuMs),
  }
  console.table([memory])

  console.log('cold start: bundled handlers (serverless package --stage prod), import time median of 10')
  const coldStart = await measureColdStart(service, 10)
  console.table(coldStart)

  await writeFile(
    new URL('./results.json', import.meta.url),
    `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, latency, throughput, memory, coldStart }, null, 2)}\n`,
  )
  console.log('written: bench/results.json')
} finally {
  await service.remove()
  await s3.close()
  await rm(directory, { recursive: true, force: true })
}
