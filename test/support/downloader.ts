import type { S3Client } from '@aws-sdk/client-s3'
import type { LookupAll } from '../../lib/adapters/httpImageSource.ts'
import { loadDownloadConfig } from '../../lib/config.ts'
import type { Downloader } from '../../lib/download/downloader.ts'
import { wireDownloader } from '../../lib/wiring.ts'

/** Where a test downloader stores: a local S3 endpoint, bucket, and the client it writes with. */
export interface TestStore {
  readonly endpoint: string
  readonly bucket: string
  readonly client: S3Client
}

// Short enough that a stalled fixture fails an attempt quickly, long enough for a loaded CI machine.
const FAST_FAILURE_ENV = {
  HEADERS_TIMEOUT_MS: '1000',
  BODY_TIMEOUT_MS: '1000',
  CONNECT_TIMEOUT_MS: '1000',
  RETRY_BASE_DELAY_MS: '5',
}

/**
 * The downloader as the handler builds it, from environment variables (stage `local` unless
 * `env` says otherwise), against a test origin and store; `lookupAll` stands in for DNS.
 */
export function downloaderFor(
  store: TestStore,
  baseUrl: string,
  env: Record<string, string> = {},
  lookupAll?: LookupAll,
): Downloader {
  const config = loadDownloadConfig({
    BUCKET_NAME: store.bucket,
    BASE_URL: baseUrl,
    S3_ENDPOINT: store.endpoint,
    STAGE: 'local',
    ...FAST_FAILURE_ENV,
    ...env,
  })
  return wireDownloader(config, lookupAll === undefined ? { s3Client: store.client } : { s3Client: store.client, lookupAll })
}
