import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { createTelemetry, publishMetrics } from '../lib/adapters/telemetry.ts'
import { loadJobsConfig } from '../lib/config/jobs.ts'
import { multiTriggerHandler } from '../lib/lambda/multiTrigger.ts'
import { composeJobs } from '../lib/wiring/jobs.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadJobsConfig()
const jobs = composeJobs(config)
const { logger, metrics } = createTelemetry(config.download)

export const handler = multiTriggerHandler(
  async (input, { httpOrigin, trigger, eventId }) => {
    const accepted = await jobs.start(input, (jobId) => `${httpOrigin ?? ''}/jobs/${jobId}`, eventId)
    logger.info('job accepted', { trigger, ...accepted })
    return accepted
  },
  {
    maxBodyBytes: config.maxBodyBytes,
    httpStatus: 202,
    reportUnexpected: (error) => logger.error('unexpected failure', error as Error),
    outer: [injectLambdaContext(logger, { resetKeys: true }), publishMetrics(metrics)],
  },
)
