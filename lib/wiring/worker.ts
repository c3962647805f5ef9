import { createS3Client } from '../adapters/s3/client.ts'
import type { WorkerConfig } from '../config/worker.ts'
import type { RunControls } from '../download/engine.ts'
import type { StepResult } from '../jobs/finish.ts'
import { runJobMessage } from '../jobs/worker.ts'
import { downloadDeps, type WiringOverrides } from './download.ts'
import { jobSteps, type JobStoreOverrides } from './jobStore.ts'

/** The worker's work: a message of the jobs queue in, its step run (a chunk's codes downloaded and counted, a fan-out, a finish). */
export type JobMessageRunner = (body: string, controls?: RunControls) => Promise<StepResult>

/** The worker bound to the origin, S3, SQS and DynamoDB; the images, plans and reports share one S3 client. */
export function composeWorker(config: WorkerConfig, overrides: WiringOverrides & JobStoreOverrides = {}): JobMessageRunner {
  const s3Client = overrides.s3Client ?? createS3Client({ localEndpoint: config.localS3Endpoint })
  const deps = { ...jobSteps(config, { ...overrides, s3Client }), download: downloadDeps(config, { ...overrides, s3Client }) }
  return (body, controls) => runJobMessage(body, deps, controls)
}
