import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { DownloadResult } from '../lib/download/downloader.ts'

export interface WorkerRun {
  readonly result: DownloadResult
  readonly elapsedMs: number
  readonly idleRssBytes: number
  readonly peakRssBytes: number
  /** Only when run with `sampleLiveBuffers`. */
  readonly peakLiveBuffersBytes?: number
}

const workerPath = fileURLToPath(new URL('./downloadWorker.ts', import.meta.url))

/** Runs one batch in a fresh Node process, so its memory is measured apart from the servers'. */
export async function runWorker(
  env: Record<string, string>,
  request: unknown,
  { sampleLiveBuffers = false } = {},
): Promise<WorkerRun> {
  const flags = sampleLiveBuffers ? ['--expose-gc'] : []
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, workerPath, JSON.stringify(request)], {
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  })
  return JSON.parse(stdout) as WorkerRun
}
