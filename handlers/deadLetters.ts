import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { createTelemetry } from '../lib/adapters/telemetry.ts'
import { loadJobsConfig } from '../lib/config/jobs.ts'
import { sqsBatchHandler } from '../lib/lambda/sqsBatch.ts'
import { composeJobs } from '../lib/wiring/jobs.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadJobsConfig()
const jobs = composeJobs(config)
const { logger } = createTelemetry(config.download)

export const handler = sqsBatchHandler(
  async (record) => {
    const counted = await jobs.countDeadLetter(record.body)
    if (counted.kind === 'dropped') logger.error('dead letter dropped', { messageId: record.messageId, reason: counted.reason })
    else logger.error('chunk dead-lettered', { jobId: counted.job.jobId, chunk: counted.chunk, state: counted.job.state })
  },
  { outer: [injectLambdaContext(logger, { resetKeys: true })] },
)
