import { createS3Client } from '../adapters/s3/client.ts'
import type { WorkerConfig } from '../config/worker.ts'
import type { RunControls } from '../download/engine.ts'
import { runChunk, type ChunkCount } from '../jobs/worker.ts'
import { downloadDeps, type WiringOverrides } from './download.ts'
import { jobFinishing, type JobStoreOverrides } from './jobStore.ts'

/** The worker's work: a chunk's message in, its codes downloaded and its outcome counted into its job. */
export type ChunkRunner = (body: string, controls?: RunControls) => Promise<ChunkCount>

/** The worker bound to the origin, S3 and DynamoDB; the images and the reports share one S3 client. */
export function composeWorker(config: WorkerConfig, overrides: WiringOverrides & JobStoreOverrides = {}): ChunkRunner {
  const s3Client = overrides.s3Client ?? createS3Client({ localEndpoint: config.localS3Endpoint })
  const deps = { ...jobFinishing(config, { ...overrides, s3Client }), download: downloadDeps(config, { ...overrides, s3Client }) }
  return (body, controls) => runChunk(body, deps, controls)
}
