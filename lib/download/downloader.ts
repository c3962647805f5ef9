import type { DownloadConfig } from '../config.ts'
import { runDownloads, type DownloadReport } from './engine.ts'
import type { ImageSource, ObjectSink } from './ports.ts'
import { DEFAULT_CODES, parseDownloadRequest, type RequestDefaults } from './request.ts'

/** A finished batch as callers see it: the engine's report and where the objects went. */
export type DownloadResult = DownloadReport & { readonly bucket: string }

export interface DownloaderDeps {
  readonly config: DownloadConfig
  readonly source: ImageSource
  readonly sink: ObjectSink
}

/** Validates a raw request, runs the batch and reports it. The one entry point every trigger uses. */
export type Downloader = (input: unknown, signal?: AbortSignal) => Promise<DownloadResult>

/** Binds the engine to its configuration and ports, once per container. */
export function createDownloader({ config, source, sink }: DownloaderDeps): Downloader {
  const defaults: RequestDefaults = {
    codes: DEFAULT_CODES,
    baseUrl: config.baseUrl,
    concurrency: config.concurrency,
    keyPrefix: config.keyPrefix,
    allowLoopbackOrigins: config.allowLoopbackOrigins,
  }
  return async (input, signal) => {
    const plan = parseDownloadRequest(input, defaults)
    const report = await runDownloads(plan, signal === undefined ? { source, sink } : { source, sink, signal })
    const { counter, total, prefix, elapsedMs, failures } = report
    return { counter, total, bucket: config.bucket, prefix, elapsedMs, failures }
  }
}
