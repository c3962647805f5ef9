import type { DownloadConfig } from '../config.ts'
import { ValidationError } from '../errors.ts'
import { resolvedHostProblem, type ResolveHost } from '../security/originPolicy.ts'
import { runDownloads, type DownloadObserver, type DownloadReport, type EngineSettings } from './engine.ts'
import type { ImageSource, ObjectSink } from './ports.ts'
import { DEFAULT_CODES, parseDownloadRequest, type RequestDefaults } from './request.ts'

/** A finished batch as callers see it: the engine's report and where the objects went. */
export type DownloadResult = DownloadReport & { readonly bucket: string }

export interface DownloaderDeps {
  readonly config: DownloadConfig
  readonly source: ImageSource
  readonly sink: ObjectSink
  /** DNS, for checking where a request's origin really is before anything is sent to it. */
  readonly resolveHost: ResolveHost
}

/** What the caller brings to one batch: the time it has (none: run to the end), and who watches. */
export interface RunOptions {
  readonly signal?: AbortSignal
  readonly remainingMs?: () => number
  readonly observer?: DownloadObserver
}

/** Validates a raw request, runs the batch and reports it. The one entry point every trigger uses. */
export type Downloader = (input: unknown, options?: RunOptions) => Promise<DownloadResult>

/** Binds the engine to its configuration and ports, once per container. */
export function createDownloader({ config, source, sink, resolveHost }: DownloaderDeps): Downloader {
  const defaults: RequestDefaults = {
    codes: DEFAULT_CODES,
    baseUrl: config.baseUrl,
    concurrency: config.concurrency,
    keyPrefix: config.keyPrefix,
    maxCodes: config.maxCodes,
    originPolicy: config.originPolicy,
  }
  const settings: EngineSettings = {
    maxImageBytes: config.maxImageBytes,
    retry: config.retry,
    deadlineReserveMs: config.deadlineReserveMs,
    attemptTimeoutMs: config.attemptTimeoutMs,
    minBodyBytesPerSecond: config.minBodyBytesPerSecond,
  }
  return async (input, options = {}) => {
    // Parsing has checked the URL's own rules; what is left is where its host really is.
    const plan = parseDownloadRequest(input, defaults)
    const refused = await resolvedHostProblem(new URL(plan.baseUrl), config.originPolicy, resolveHost)
    if (refused !== undefined) throw new ValidationError(`baseUrl: ${refused}`)
    const report = await runDownloads(plan, settings, { source, sink, ...options })
    return { ...report, bucket: config.bucket }
  }
}
