import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { createTelemetry } from '../lib/adapters/telemetry.ts'
import { loadJobsConfig } from '../lib/config/jobs.ts'
import { multiTriggerHandler } from '../lib/lambda/multiTrigger.ts'
import { composeJobs } from '../lib/wiring/jobs.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadJobsConfig()
const jobs = composeJobs(config)
const { logger } = createTelemetry(config.download)

export const handler = multiTriggerHandler((input) => jobs.status(input), {
  maxBodyBytes: config.maxBodyBytes,
  triggers: ['http', 'direct'],
  // GET /jobs/{jobId}: the id is in the path.
  httpInput: (event) => ({ jobId: event.pathParameters?.['jobId'] }),
  reportUnexpected: (error) => logger.error('unexpected failure', error as Error),
  outer: [injectLambdaContext(logger, { resetKeys: true })],
})
