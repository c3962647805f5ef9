import { loadJobsConfig } from '../lib/config/jobs.ts'
import { multiTriggerHandler } from '../lib/lambda/multiTrigger.ts'
import { observability } from '../lib/lambda/observability.ts'
import { composeJobs } from '../lib/wiring/jobs.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadJobsConfig()
const startJob = composeJobs(config)
const observed = observability()

export const handler = multiTriggerHandler(
  async (input, { httpOrigin, trigger, eventId, remainingMs }) => {
    const accepted = await startJob(input, (jobId) => `${httpOrigin ?? ''}/jobs/${jobId}`, eventId, remainingMs)
    observed.logger.info('job accepted', { trigger, ...accepted })
    return accepted
  },
  { maxBodyBytes: config.maxBodyBytes, httpStatus: 202, observability: observed },
)
