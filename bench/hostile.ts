// Measures the engine against hostile origins and a misbehaving S3, each batch in a process of its own:
//   memory: 20 images of 50 MiB at a cap of 4 → peak RSS of the process running the batch,
//           and, in a second run, the peak of buffers actually in use (sampled after forced
//           collections); beside smaller images and a cap of 1, to show what memory follows;
//   stall:  an origin that accepts requests and never answers, with the default timeouts and
//           retries → the time until the code is counted as `error`;
//   the hostile probe's cases, in a 29 s function with the default settings: S3 that never
//           answers one PUT in five, S3 that is 2 s slow on every request, an origin that drips
//           its body a byte at a time (alone at cap 1, and 128 of them at cap 128 in a batch of
//           1000), and 1000 redirects to a 15 KB host name → time to answer and answer size.
// Usage: npm run bench:hostile
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalS3 } from '../devkit/localS3.ts'
import { dripBody, image, jpegBytes, stallHeaders, startOrigin, status } from '../devkit/originFixture.ts'
import { isUpload, pass, startS3FaultProxy, type S3Fault } from '../devkit/s3FaultProxy.ts'
import { runWorker, type WorkerRun } from './worker.ts'

const MiB = 1024 * 1024
const BUCKET = 'imgpull-bench'
const IMAGES = 20
// The batch the target is set for first; the others show the peak follows the cap, not image size.
const MEMORY_RUNS = [
  { imageMiB: 50, cap: 4 },
  { imageMiB: 12, cap: 4 },
  { imageMiB: 50, cap: 1 },
]
// Longer than the default attempts and backoff put together; the origin's close ends it.
const NEVER_MS = 120_000
// The download function's timeout in serverless.yml.
const FUNCTION_TIMEOUT_MS = 29_000

const directory = await mkdtemp(join(tmpdir(), 'imgpull-bench-'))
const s3 = await startLocalS3({ port: 0, directory, buckets: [BUCKET] })
const codesOf = (imageMiB: number) => Array.from({ length: IMAGES }, (_, i) => `mib${imageMiB}-${i}`)
const imageRoutes = [...new Set(MEMORY_RUNS.map((run) => run.imageMiB))].flatMap((imageMiB) => {
  const bytes = jpegBytes(imageMiB, imageMiB * MiB)
  return codesOf(imageMiB).map((code) => [`/${code}.jpg`, image(bytes)] as const)
})
const numbered = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`)
const small = numbered('small', 1000)
const drips = numbered('drip', 128)
const redirects = numbered('redirect', 1000)
const hugeHost = `${'h'.repeat(15_000)}.example`
const origin = await startOrigin({
  ...Object.fromEntries(imageRoutes),
  '/stalled.jpg': stallHeaders(NEVER_MS, image(jpegBytes(2))),
  ...Object.fromEntries(small.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i))])),
  // One byte every 3.5 s: never silent for the 5 s idle timeout.
  ...Object.fromEntries(drips.map((code, i) => [`/${code}.jpg`, dripBody(jpegBytes(i, 20_000), 3500)])),
  ...Object.fromEntries(redirects.map((code) => [`/${code}.jpg`, status(302, '', { location: `https://${hugeHost}/x.jpg` })])),
})
const env = { BUCKET_NAME: BUCKET, BASE_URL: origin.baseUrl, LOCAL_S3_ENDPOINT: s3.endpoint, STAGE: 'local' }
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`

/** One hostile-probe case in a 29 s function, through a fault proxy in front of S3 when one is given. */
async function probe(codes: readonly string[], concurrency: number, fault?: (method: string, url: string) => S3Fault): Promise<WorkerRun> {
  const proxy = fault === undefined ? undefined : await startS3FaultProxy(s3.endpoint, fault)
  try {
    return await runWorker(
      { ...env, LOCAL_S3_ENDPOINT: proxy?.endpoint ?? s3.endpoint, IMGPULL_BENCH_TIMEOUT_MS: String(FUNCTION_TIMEOUT_MS) },
      { codes, concurrency, prefix: 'flags/bench-probe/', force: true },
    )
  } finally {
    await proxy?.close()
  }
}

function probeRow(scenario: string, run: WorkerRun) {
  const reasons: Record<string, number> = {}
  for (const failure of run.result.failures) reasons[failure.reason] = (reasons[failure.reason] ?? 0) + 1
  return {
    scenario,
    counter: JSON.stringify(run.result.counter),
    'listed failures': JSON.stringify(reasons),
    'answered in s': (run.elapsedMs / 1000).toFixed(1),
    'answer KB': (JSON.stringify(run.result).length / 1024).toFixed(1),
  }
}

try {
  const rows = []
  for (const { imageMiB, cap } of MEMORY_RUNS) {
    const memoryEnv = { ...env, MAX_IMAGE_BYTES: String(64 * MiB) }
    const request = { codes: codesOf(imageMiB), concurrency: cap, prefix: 'flags/bench-memory/', force: true }
    const memory = await runWorker(memoryEnv, request)
    const live = await runWorker(memoryEnv, request, { sampleLiveBuffers: true })
    rows.push({
      scenario: `memory: ${IMAGES} × ${imageMiB} MiB, cap ${cap}`,
      outcome: JSON.stringify(memory.result.counter),
      'elapsed s': (memory.elapsedMs / 1000).toFixed(1),
      'idle RSS': mib(memory.idleRssBytes),
      'peak RSS': mib(memory.peakRssBytes),
      'live buffers': mib(live.peakLiveBuffersBytes ?? 0),
    })
  }
  const stall = await runWorker(env, { codes: ['stalled'], prefix: 'flags/bench-stall/' })
  const failure = stall.result.failures[0]
  console.table([
    ...rows,
    {
      scenario: 'stall: no answer, default timeouts',
      outcome: `${failure?.reason ?? 'ok'} after ${failure?.attempts ?? 0} attempts`,
      'elapsed s': (stall.elapsedMs / 1000).toFixed(1),
      'idle RSS': mib(stall.idleRssBytes),
      'peak RSS': mib(stall.peakRssBytes),
      'live buffers': '',
    },
  ])

  let uploads = 0
  const sixty = small.slice(0, 60)
  console.table([
    probeRow('S3 never answers 1 PUT in 5: 60 codes, cap 8', await probe(sixty, 8, (method) => {
      if (!isUpload(method)) return pass
      uploads += 1
      return uploads % 5 === 0 ? { kind: 'stall' } : pass
    })),
    probeRow('S3 2 s slow on every request: 60 codes, cap 8', await probe(sixty, 8, () => ({ kind: 'delay', ms: 2000 }))),
    probeRow('1 dripping origin then 10 codes, cap 1', await probe([drips[0]!, ...small.slice(0, 10)], 1)),
    probeRow('128 dripping codes and 872 others, cap 128', await probe([...drips, ...small.slice(0, 872)], 128)),
    probeRow('1000 redirects to a 15 KB host name, cap 50', await probe(redirects, 50)),
  ])
} finally {
  await origin.close()
  await s3.close()
  await rm(directory, { recursive: true, force: true })
}
