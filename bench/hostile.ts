// Measures the engine against two hostile origins, each run in a process of its own:
//   memory: 20 images of 50 MiB at a cap of 4 → peak RSS of the process running the batch,
//           and, in a second run, the peak of buffers actually in use (sampled after forced
//           collections); beside smaller images and a cap of 1, to show what memory follows;
//   stall:  an origin that accepts requests and never answers, with the default timeouts and
//           retries → the time until the code is counted as `error`.
// Usage: npm run bench:hostile
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLocalS3 } from '../scripts/local-s3.ts'
import { image, jpegBytes, stallHeaders, startOrigin } from '../test/support/originFixture.ts'
import { runWorker } from './worker.ts'

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

const directory = await mkdtemp(join(tmpdir(), 'imgpull-bench-'))
const s3 = await startLocalS3({ port: 0, directory, buckets: [BUCKET] })
const codesOf = (imageMiB: number) => Array.from({ length: IMAGES }, (_, i) => `mib${imageMiB}-${i}`)
const imageRoutes = [...new Set(MEMORY_RUNS.map((run) => run.imageMiB))].flatMap((imageMiB) => {
  const bytes = jpegBytes(imageMiB, imageMiB * MiB)
  return codesOf(imageMiB).map((code) => [`/${code}.jpg`, image(bytes)] as const)
})
const origin = await startOrigin({
  ...Object.fromEntries(imageRoutes),
  '/stalled.jpg': stallHeaders(NEVER_MS, image(jpegBytes(2))),
})
const env = { BUCKET_NAME: BUCKET, BASE_URL: origin.baseUrl, S3_ENDPOINT: s3.endpoint, STAGE: 'local' }

try {
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`
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
} finally {
  await origin.close()
  await s3.close()
  await rm(directory, { recursive: true, force: true })
}
