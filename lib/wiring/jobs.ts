import type { SQSClient } from '@aws-sdk/client-sqs'
import type { LookupAll } from '../adapters/origin/httpImageSource.ts'
import { createSqsClient } from '../adapters/sqs/client.ts'
import { sqsChunkQueue } from '../adapters/sqs/chunkQueue.ts'
import type { JobsConfig } from '../config/jobs.ts'
import { startJob, type JobAccepted, type PlannerDeps } from '../jobs/planner.ts'
import { hostResolver } from './download.ts'
import { jobFinishing, type JobStoreOverrides } from './jobStore.ts'

/** The jobs function's work: `requestId`, when the request has one that stays the same on a retry, makes one job of its retries. */
export type JobStarter = (input: unknown, statusUrlOf: (jobId: string) => string, requestId?: string) => Promise<JobAccepted>

/** What a caller may swap, besides the jobs store's clients: the queue's client, and DNS. */
export interface JobsOverrides extends JobStoreOverrides {
  readonly sqs?: SQSClient
  readonly lookupAll?: LookupAll
}

/** The planner bound to DynamoDB, SQS and S3: a job validated, stored and queued in chunks. */
export function composeJobs(config: JobsConfig, overrides: JobsOverrides = {}): JobStarter {
  const finishing = jobFinishing(config, overrides)
  const deps: PlannerDeps = {
    ...finishing,
    rules: config.rules,
    queue: sqsChunkQueue(overrides.sqs ?? createSqsClient({ localEndpoint: config.localSqsEndpoint }), config.queueUrl),
    resolveHost: hostResolver(overrides.lookupAll),
  }
  return (input, statusUrlOf, requestId) => startJob(input, deps, statusUrlOf, requestId)
}
