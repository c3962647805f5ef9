import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { DownloadResult } from '../lib/download/report.ts'

export interface WorkerRun {
  /** The naive client's result has the counter alone. */
  readonly result: DownloadResult
  readonly elapsedMs: number
  /** CPU time the worker used during the batch: near elapsedMs means the engine itself is the limit. */
  readonly cpuMs: number
  readonly idleRssBytes: number
  readonly peakRssBytes: number
  /** Only when run with `sampleLiveBuffers`. */
  readonly peakLiveBuffersBytes?: number
  /** The first request's figures, when a warm-up ran before the measured one in the same process. */
  readonly cold: { readonly elapsedMs: number; readonly cpuMs: number }
}

const workerPath = fileURLToPath(new URL('./downloadWorker.ts', import.meta.url))
const naiveWorkerPath = fileURLToPath(new URL('./naiveWorker.ts', import.meta.url))

// Runs the packaged handler in a plain Node process, as Lambda does: CommonJS, no TypeScript
// loader, nothing else loaded. Reads `{ requests }` from stdin and invokes the handler with each in
// turn, as one container would; prints the last one's figures, with the first's as `cold`.
const BUNDLED_RUNNER = `
const { handler } = require(process.env.IMGPULL_BENCH_HANDLER)
const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', async () => {
  const { requests } = JSON.parse(Buffer.concat(chunks).toString())
  const idleRssBytes = process.memoryUsage.rss()
  const runs = []
  for (const [index, request] of requests.entries()) {
    const startedAt = Date.now()
    const context = {
      functionName: 'imgpull-bench-download', functionVersion: '$LATEST', memoryLimitInMB: '512', awsRequestId: 'bench-' + index,
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:imgpull-bench-download',
      getRemainingTimeInMillis: () => 15 * 60000 - (Date.now() - startedAt),
    }
    const cpuAtStart = process.cpuUsage()
    const t = performance.now()
    const result = await handler(request, context)
    const elapsedMs = performance.now() - t
    const cpu = process.cpuUsage(cpuAtStart)
    runs.push({ result, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000 })
  }
  const peakRssBytes = process.resourceUsage().maxRSS * 1024
  process.stdout.write('\\n' + JSON.stringify({ ...runs.at(-1), cold: runs[0], idleRssBytes, peakRssBytes }) + '\\n')
  process.exit(0)
})
`

/**
 * Runs one batch in a fresh Node process, so its memory and time are measured apart from the
 * servers'; with `warmup`, that batch runs first in the same process, as a warm container's
 * earlier invocation. The requests go in on stdin; the worker's figures come back as JSON on stdout.
 */
export async function runWorker(
  env: Record<string, string>,
  request: unknown,
  { sampleLiveBuffers = false, naive = false, warmup }: { sampleLiveBuffers?: boolean; naive?: boolean; warmup?: unknown } = {},
): Promise<WorkerRun> {
  // BENCH_CPU_PROFILE=<dir> leaves a V8 CPU profile of each batch there, to see where its time goes.
  const profileDir = process.env['BENCH_CPU_PROFILE']
  const flags = [
    ...(sampleLiveBuffers ? ['--expose-gc'] : []),
    ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
  ]
  const args =
    env['IMGPULL_BENCH_HANDLER'] !== undefined ? [...flags, '-e', BUNDLED_RUNNER] : [...flags, naive ? naiveWorkerPath : workerPath]
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env } })
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  child.stdin.end(JSON.stringify({ requests: warmup === undefined ? [request] : [warmup, request] }))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`download worker exited with ${code}: ${Buffer.concat(stderr).toString().slice(0, 2000)}`)
  const lines = Buffer.concat(stdout).toString().trim().split('\n')
  return JSON.parse(lines.at(-1) ?? '{}') as WorkerRun
}
