import type { DownloadConfig } from '../config.ts'
import { runDownloads, type DownloadReport, type EngineSettings } from './engine.ts'
import type { ImageSource, ObjectSink } from './ports.ts'
import { DEFAULT_CODES, parseDownloadRequest, type RequestDefaults } from './request.ts'

/** A finished batch as callers see it: the engine's report and where the objects went. */
export type DownloadResult = DownloadReport & { readonly bucket: string }

export interface DownloaderDeps {
  readonly config: DownloadConfig
  readonly source: ImageSource
  readonly sink: ObjectSink
}

/** How much time the caller gives the batch. Without it, the batch runs to its end. */
export interface TimeLimit {
  readonly signal?: AbortSignal
  readonly remainingMs?: () => number
}

/** Validates a raw request, runs the batch and reports it. The one entry point every trigger uses. */
export type Downloader = (input: unknown, limit?: TimeLimit) => Promise<DownloadResult>

/** Binds the engine to its configuration and ports, once per container. */
export function createDownloader({ config, source, sink }: DownloaderDeps): Downloader {
  const defaults: RequestDefaults = {
    codes: DEFAULT_CODES,
    baseUrl: config.baseUrl,
    concurrency: config.concurrency,
    keyPrefix: config.keyPrefix,
    allowLoopbackOrigins: config.allowLoopbackOrigins,
  }
  const settings: EngineSettings = {
    maxImageBytes: config.maxImageBytes,
    retry: config.retry,
    deadlineReserveMs: config.deadlineReserveMs,
  }
  return async (input, limit = {}) => {
    const plan = parseDownloadRequest(input, defaults)
    const report = await runDownloads(plan, settings, { source, sink, ...limit })
    const { counter, unchanged, bytes, total, prefix, elapsedMs, failures } = report
    return { counter, unchanged, bytes, total, bucket: config.bucket, prefix, elapsedMs, failures }
  }
}
