// `npm run bench`: the engine's speed, CPU, memory and cold start, measured on loopback.
// Every batch runs in a fresh process against an origin and a local S3 served from this one, so
// the numbers belong to the client alone. Per shape, side by side in one run: the fetch-only floor
// (p-limit and fetch, bodies read and dropped), imgpull's packaged handler on its default path
// (look-up, GET, PUT) and forced (GET, PUT), and a naive client (p-limit, fetch, one PutObject per
// image); each twice in one process, cold then warm. Prints the
// tables and writes bench/results.json. Knobs: BENCH_LATENCY_MS (default 50) and BENCH_IMAGE_BYTES
// (default 20000).
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
  readonly force?: boolean
  /** The naive client instead of imgpull. */
  readonly naive?: boolean
  readonly maxImageBytes?: number
  /** Run the packaged Lambda handler rather than the engine from source. */
  readonly bundledHandler?: string
  readonly env?: Record<string, string>
}

/**
 * Runs one batch against a fresh origin; reports the worker's figures and what the origin saw.
 * With `warm`, a batch of the same shape and other codes runs first in the same process, as the
 * previous invocation of a warm container: its figures are the cold ones.
 */
async function runBatch(s3: LocalS3, name: string, spec: BatchSpec & { readonly warm?: boolean }) {
  const bytes = jpegBytes(1, spec.imageBytes)
  const codes = Array.from({ length: spec.codes }, (_, i) => `${name}-${i}`)
  const warmCodes = spec.warm === true ? codes.map((code) => `${code}-warmup`) : []
  const origin = await startOrigin(
    Object.fromEntries([...codes, ...warmCodes].map((code) => [`/${code}.jpg`, image(bytes, spec.latencyMs > 0 ? { delayMs: spec.latencyMs } : {})])),
  )
  try {
    const env = {
      BUCKET_NAME: BUCKET,
      BASE_URL: origin.baseUrl,
      LOCAL_S3_ENDPOINT: s3.endpoint,
      STAGE: 'local',
      MAX_CODES: String(spec.codes),
      // The bench's own runs are the only output wanted.
      POWERTOOLS_LOG_LEVEL: 'WARN',
      MAX_IMAGE_BYTES: String(spec.maxImageBytes ?? 10 * MiB),
      ...(spec.fetchOnly === true ? { IMGPULL_BENCH_SINK: 'discard' } : {}),
      ...(spec.bundledHandler === undefined ? {} : { IMGPULL_BENCH_HANDLER: spec.bundledHandler }),
      ...spec.env,
    }
    const requestOf = (batch: string[], prefix: string) => ({ codes: batch, concurrency: spec.concurrency, prefix, ...(spec.force === true ? { force: true } : {}) })
    const warmup = spec.warm === true ? requestOf(warmCodes, `flags/bench/${name}-warmup/`) : undefined
    const run = await runWorker(env, requestOf(codes, `flags/bench/${name}/`), { naive: spec.naive ?? false, warmup })
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
  console.log('speed and CPU, side by side (targets: ≤ 1.10 × floor at C=3, no slower than naive, ≤ 0.6 ms CPU per image)')
  console.log('each client runs a batch of the shape twice in one process: the second is measured (warm), the first is the cold column; imgpull is the packaged handler')
  const speed = []
  for (const shape of [
    { codes: 200, concurrency: 3, latencyMs: LATENCY_MS },
    { codes: 1000, concurrency: 50, latencyMs: LATENCY_MS },
    { codes: 1000, concurrency: 100, latencyMs: 0 },
  ]) {
    const tag = `n${shape.codes}c${shape.concurrency}l${shape.latencyMs}`
    const base = { ...shape, imageBytes: IMAGE_BYTES, warm: true }
    const packaged = { ...base, bundledHandler: service.handler('download') }
    const floor = await runBatch(s3, `${tag}-floor`, { ...base, naive: true, fetchOnly: true })
    const naive = await runBatch(s3, `${tag}-naive`, { ...base, naive: true })
    const imgpull = await runBatch(s3, `${tag}-default`, packaged)
    const forced = await runBatch(s3, `${tag}-forced`, { ...packaged, force: true })
    for (const [client, run] of [
      ['floor: fetch only', floor],
      ['naive: fetch + PutObject', naive],
      ['imgpull, default', imgpull],
      ['imgpull, forced', forced],
    ] as const) {
      speed.push({
        shape: `N=${shape.codes} C=${shape.concurrency} L=${shape.latencyMs}`,
        client,
        'elapsed ms': Math.round(run.elapsedMs),
        '× floor': round(run.elapsedMs / floor.elapsedMs),
        '× naive': round(run.elapsedMs / naive.elapsedMs),
        'CPU ms/image': round(run.cpuMs / shape.codes, 3),
        'cold × naive': round(run.cold.elapsedMs / naive.cold.elapsedMs),
        'cold CPU ms/image': round(run.cold.cpuMs / shape.codes, 3),
        'max in flight': run.maxInFlight,
      })
    }
  }
  console.table(speed)

  console.log('memory: the packaged handler, as Lambda runs it, at the largest request accepted (target: peak RSS < 80 % of 512 MB)')
  const memoryRun = await runBatch(s3, 'memory', {
    codes: 128,
    concurrency: 128,
    latencyMs: 0,
    imageBytes: 9 * MiB,
    bundledHandler: service.handler('download'),
    env: { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512' },
  })
  const memory = {
    scenario: '128 × 9 MiB, C=128, 512 MB',
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
    `${JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, speed, memory, coldStart }, null, 2)}\n`,
  )
  console.log('written: bench/results.json')
} finally {
  await service.remove()
  await s3.close()
  await rm(directory, { recursive: true, force: true })
}
