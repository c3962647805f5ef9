import type { S3Client } from '@aws-sdk/client-s3'
import type { LookupAll } from '../../lib/adapters/origin/httpImageSource.ts'
import { loadDownloadConfig } from '../../lib/config/download.ts'
import { composeDownload, type DownloadRequestHandler } from '../../lib/wiring/download.ts'

/** Where a test downloader stores: a local S3 endpoint, bucket, and the client it writes with. */
export interface TestStore {
  readonly endpoint: string
  readonly bucket: string
  readonly client: S3Client
}

export interface TestDownloaderOptions {
  readonly store: TestStore
  /** The origin a request falls back to (BASE_URL). */
  readonly baseUrl: string
  /** More environment variables, over stage `local` and short timeouts. */
  readonly env?: Record<string, string>
  /** Stands in for DNS. */
  readonly lookupAll?: LookupAll
}

// Short enough that a stalled fixture fails an attempt quickly, long enough for a loaded CI machine.
const FAST_FAILURE_ENV = {
  HEADERS_TIMEOUT_MS: '1000',
  BODY_TIMEOUT_MS: '1000',
  CONNECT_TIMEOUT_MS: '1000',
  RETRY_BASE_DELAY_MS: '5',
}

/**
 * The download function's work as the handler composes it, from environment variables (stage
 * `local` unless `env` says otherwise), against a test origin and store.
 */
export function downloaderFor({ store, baseUrl, env = {}, lookupAll }: TestDownloaderOptions): DownloadRequestHandler {
  const config = loadDownloadConfig({
    BUCKET_NAME: store.bucket,
    BASE_URL: baseUrl,
    LOCAL_S3_ENDPOINT: store.endpoint,
    STAGE: 'local',
    ...FAST_FAILURE_ENV,
    ...env,
  })
  return composeDownload(config, lookupAll === undefined ? { s3Client: store.client } : { s3Client: store.client, lookupAll })
}
