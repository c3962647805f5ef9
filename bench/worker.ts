import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { DownloadResult } from '../lib/wiring/download.ts'

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
}

const workerPath = fileURLToPath(new URL('./downloadWorker.ts', import.meta.url))
const naiveWorkerPath = fileURLToPath(new URL('./naiveWorker.ts', import.meta.url))

// Runs the packaged handler in a plain Node process, as Lambda does: CommonJS, no TypeScript
// loader, nothing else loaded. Reads the request from stdin; prints its figures as the last line.
const BUNDLED_RUNNER = `
const { handler } = require(process.env.IMGPULL_BENCH_HANDLER)
const chunks = []
process.stdin.on('data', (chunk) => chunks.push(chunk))
process.stdin.on('end', async () => {
  const request = JSON.parse(Buffer.concat(chunks).toString())
  const startedAt = Date.now()
  const context = {
    functionName: 'imgpull-bench-download', functionVersion: '$LATEST', memoryLimitInMB: '512', awsRequestId: 'bench',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:imgpull-bench-download',
    getRemainingTimeInMillis: () => 15 * 60000 - (Date.now() - startedAt),
  }
  const idleRssBytes = process.memoryUsage.rss()
  const cpuAtStart = process.cpuUsage()
  const t = performance.now()
  const result = await handler(request, context)
  const elapsedMs = performance.now() - t
  const cpu = process.cpuUsage(cpuAtStart)
  const peakRssBytes = process.resourceUsage().maxRSS * 1024
  process.stdout.write('\\n' + JSON.stringify({ result, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1000, idleRssBytes, peakRssBytes }) + '\\n')
  process.exit(0)
})
`

/**
 * Runs one batch in a fresh Node process, so its memory and time are measured apart from the
 * servers'. The request goes in on stdin; the worker's figures come back as JSON on stdout.
 */
export async function runWorker(
  env: Record<string, string>,
  request: unknown,
  { sampleLiveBuffers = false, naive = false }: { sampleLiveBuffers?: boolean; naive?: boolean } = {},
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
  child.stdin.end(JSON.stringify(request))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`download worker exited with ${code}: ${Buffer.concat(stderr).toString().slice(0, 2000)}`)
  const lines = Buffer.concat(stdout).toString().trim().split('\n')
  return JSON.parse(lines.at(-1) ?? '{}') as WorkerRun
}
