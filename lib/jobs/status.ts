import { ClientError, ValidationError } from '../errors.ts'
import { JOB_ID_PATTERN, type JobStatus } from './job.ts'
import type { JobStore } from './ports.ts'

/** A job's status by its id: 400 for what cannot be an id, 404 for an id with no job. */
export async function jobStatusOf(input: unknown, store: Pick<JobStore, 'get'>): Promise<JobStatus> {
  const jobId = typeof input === 'object' && input !== null ? (input as { jobId?: unknown }).jobId : undefined
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) {
    throw new ValidationError('jobId: must be the id POST /jobs answered (a lower-case UUID)')
  }
  const job = await store.get(jobId)
  if (job === undefined) throw new ClientError(404, `no job ${jobId} (jobs are kept some days after they finish, then removed)`)
  return job
}
