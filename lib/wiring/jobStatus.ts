import type { JobStatusConfig } from '../config/jobStatus.ts'
import type { JobStatus } from '../jobs/job.ts'
import { jobStatusOf } from '../jobs/status.ts'
import { jobReader, type JobStoreOverrides } from './jobStore.ts'

/** The job status function's work: a job's status by its id, read from DynamoDB. */
export function composeJobStatus(config: JobStatusConfig, overrides: JobStoreOverrides = {}): (input: unknown) => Promise<JobStatus> {
  const reader = jobReader(config, overrides)
  return (input) => jobStatusOf(input, reader)
}
