import { runTelemetry } from '../lib/adapters/telemetry.ts'
import { loadWorkerConfig } from '../lib/config/worker.ts'
import { observability } from '../lib/lambda/observability.ts'
import { sqsBatchHandler } from '../lib/lambda/sqsBatch.ts'
import { composeWorker } from '../lib/wiring/worker.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadWorkerConfig()
const observed = observability({ metricsNamespace: config.metricsNamespace, traced: true })
const runChunk = composeWorker(config, { tracer: observed.tracer })
const { logger, metrics } = observed

export const handler = sqsBatchHandler(
  async (record, { signal, remainingMs }) => {
    const observer = runTelemetry(logger, metrics, 'sqs')
    const counted = await runChunk(record.body, { signal, remainingMs, observer })
    if (counted.kind === 'dropped') logger.warn('chunk dropped', { messageId: record.messageId, reason: counted.reason })
    else logger.info('chunk counted', { jobId: counted.job.jobId, chunk: counted.chunk, chunksDone: counted.job.chunksDone, state: counted.job.state })
  },
  { observability: observed },
)
