import type { S3Client } from '@aws-sdk/client-s3'
import { lookup } from 'node:dns'
import { createOriginAgent, httpImageSource, type LookupAll } from './adapters/httpImageSource.ts'
import { createS3Client, s3ObjectSink } from './adapters/s3ObjectSink.ts'
import type { DownloadConfig } from './config.ts'
import { createDownloader, type Downloader } from './download/downloader.ts'
import type { ObjectSink } from './download/ports.ts'

/**
 * What a caller may swap: the S3 client; the whole sink (the benchmark's fetch-only baseline);
 * and DNS, which the tests fake to point names anywhere.
 */
export interface WiringOverrides {
  readonly s3Client?: S3Client
  readonly sink?: ObjectSink
  readonly lookupAll?: LookupAll
}

/** The download core bound to its real adapters: the one composition the handler, tests and benchmarks share. */
export function wireDownloader(config: DownloadConfig, overrides: WiringOverrides = {}): Downloader {
  const lookupAll = overrides.lookupAll ?? lookup
  const agent = createOriginAgent(config.originTimeouts, config.originPolicy, lookupAll)
  return createDownloader({
    config,
    source: httpImageSource(agent, config.originPolicy),
    sink: overrides.sink ?? s3ObjectSink(overrides.s3Client ?? createS3Client(config), config.bucket),
    // The same resolver the connections use, so both see one view of DNS.
    resolveHost: (hostname) =>
      new Promise((resolve, reject) =>
        lookupAll(hostname, { all: true }, (error, addresses) =>
          error === null ? resolve(addresses.map((entry) => entry.address)) : reject(error),
        ),
      ),
  })
}
