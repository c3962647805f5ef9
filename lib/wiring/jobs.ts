import type { LookupAll } from '../adapters/origin/httpImageSource.ts'
import type { JobsConfig } from '../config/jobs.ts'
import type { RemainingMs } from '../jobs/fanOut.ts'
import { startJob, type JobAccepted, type PlannerDeps } from '../jobs/planner.ts'
import { hostResolver } from './download.ts'
import { jobSteps, type JobStoreOverrides } from './jobStore.ts'

/** The jobs function's work: `requestId`, when the request has one that stays the same on a retry, makes one job of its retries. */
export type JobStarter = (input: unknown, statusUrlOf: (jobId: string) => string, requestId?: string, remainingMs?: RemainingMs) => Promise<JobAccepted>

/** What a caller may swap, besides the jobs store's clients: DNS. */
export interface JobsOverrides extends JobStoreOverrides {
  readonly lookupAll?: LookupAll
}

/** The planner bound to DynamoDB, SQS and S3: a job validated, its plan and itself stored, and its chunks queued. */
export function composeJobs(config: JobsConfig, overrides: JobsOverrides = {}): JobStarter {
  const deps: PlannerDeps = { ...jobSteps(config, overrides), rules: config.rules, planPrefix: config.planPrefix, resolveHost: hostResolver(overrides.lookupAll) }
  return (input, statusUrlOf, requestId, remainingMs) => startJob(input, deps, statusUrlOf, requestId, remainingMs)
}
