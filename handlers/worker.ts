import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
import { batchTelemetry, createTelemetry, createTracer, publishMetrics } from '../lib/adapters/telemetry.ts'
import { loadJobsConfig } from '../lib/config/jobs.ts'
import { sqsBatchHandler } from '../lib/lambda/sqsBatch.ts'
import { composeJobs } from '../lib/wiring/jobs.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadJobsConfig()
const tracer = createTracer()
const jobs = composeJobs(config, { tracer })
const { logger, metrics } = createTelemetry(config.download)

export const handler = sqsBatchHandler(
  async (record, { signal, remainingMs }) => {
    const observer = batchTelemetry(logger, metrics, 'sqs')
    const counted = await jobs.runChunk(record.body, { signal, remainingMs, observer })
    if (counted.kind === 'dropped') logger.warn('chunk dropped', { messageId: record.messageId, reason: counted.reason })
    else logger.info('chunk counted', { jobId: counted.job.jobId, chunk: counted.chunk, chunksDone: counted.job.chunksDone, state: counted.job.state })
  },
  { outer: [captureLambdaHandler(tracer, { captureResponse: false }), injectLambdaContext(logger, { resetKeys: true }), publishMetrics(metrics)] },
)
