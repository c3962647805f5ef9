import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { DownloadResult } from '../lib/download/downloader.ts'

export interface WorkerRun {
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

/**
 * Runs one batch in a fresh Node process, so its memory and time are measured apart from the
 * servers'. The request goes in on stdin; the worker's figures come back as JSON on stdout.
 */
export async function runWorker(
  env: Record<string, string>,
  request: unknown,
  { sampleLiveBuffers = false } = {},
): Promise<WorkerRun> {
  // BENCH_CPU_PROFILE=<dir> leaves a V8 CPU profile of each batch there, to see where its time goes.
  const profileDir = process.env['BENCH_CPU_PROFILE']
  const flags = [
    ...(sampleLiveBuffers ? ['--expose-gc'] : []),
    ...(profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`]),
  ]
  const child = spawn(process.execPath, [...flags, workerPath], { env: { ...process.env, ...env } })
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
