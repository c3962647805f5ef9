import type { Tracer } from '@aws-lambda-powertools/tracer'
import type { S3Client } from '@aws-sdk/client-s3'
import { tracedPorts } from '../adapters/tracing.ts'
import { lookup } from 'node:dns'
import { createOriginAgent, httpImageSource, type LookupAll } from '../adapters/origin/httpImageSource.ts'
import { createS3Client } from '../adapters/s3/client.ts'
import { s3ObjectSink } from '../adapters/s3/objectSink.ts'
import type { DownloadRunConfig } from '../config/download.ts'
import { runDownloadRequest, type DownloadDeps } from '../download/downloadRequest.ts'
import type { RunControls } from '../download/engine.ts'
import type { ObjectSink } from '../download/ports.ts'
import type { DownloadResult } from '../download/report.ts'
import type { ResolveHost } from '../security/originPolicy.ts'

/** The download function's work: a raw request in, validated, run and reported. */
export type DownloadRequestHandler = (input: unknown, controls?: RunControls) => Promise<DownloadResult>

/**
 * What a caller may swap: the S3 client; the whole sink (the benchmark's fetch-only baseline);
 * and DNS, which the tests fake to point names anywhere.
 */
export interface WiringOverrides {
  readonly s3Client?: S3Client
  readonly sink?: ObjectSink
  readonly lookupAll?: LookupAll
  /** Traces each origin request and S3 call as a subsegment. */
  readonly tracer?: Tracer
}

/** The download core's dependencies bound to the real adapters: what a run of any trigger runs with. */
export function downloadDeps(config: DownloadRunConfig, overrides: WiringOverrides = {}): DownloadDeps {
  const lookupAll = overrides.lookupAll ?? lookup
  const agent = createOriginAgent(config.originTimeouts, config.rules.originPolicy, lookupAll)
  const ports = {
    source: httpImageSource(agent, config.rules.originPolicy),
    sink: overrides.sink ?? s3ObjectSink(overrides.s3Client ?? createS3Client({ localEndpoint: config.localS3Endpoint }), config.bucket),
  }
  return {
    rules: config.rules,
    settings: config.settings,
    ports: overrides.tracer === undefined ? ports : tracedPorts(ports, overrides.tracer),
    // The same resolver the connections use, so both see one view of DNS.
    resolveHost: hostResolver(lookupAll),
  }
}

/** Every address DNS gives a host: what a request's origin is checked against before anything is sent to it. */
export function hostResolver(lookupAll: LookupAll = lookup): ResolveHost {
  return (hostname) =>
    new Promise<string[]>((resolve, reject) =>
      lookupAll(hostname, { all: true }, (error, addresses) => (error === null ? resolve(addresses.map((entry) => entry.address)) : reject(error))),
    )
}

/** The download core bound to its real adapters: the one composition the handler, tests and benchmarks share. */
export function composeDownload(config: DownloadRunConfig, overrides: WiringOverrides = {}): DownloadRequestHandler {
  const deps = downloadDeps(config, overrides)
  return async (input, controls) => ({ ...(await runDownloadRequest(input, deps, controls)), bucket: config.bucket })
}
