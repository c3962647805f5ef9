import { runTelemetry } from '../lib/adapters/telemetry.ts'
import { loadWorkerConfig } from '../lib/config/worker.ts'
import { observability } from '../lib/lambda/observability.ts'
import { sqsBatchHandler } from '../lib/lambda/sqsBatch.ts'
import { composeWorker } from '../lib/wiring/worker.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadWorkerConfig()
const observed = observability({ metricsNamespace: config.metricsNamespace, traced: true })
const runJobMessage = composeWorker(config, { tracer: observed.tracer })
const { logger, metrics } = observed

export const handler = sqsBatchHandler(
  async (record, { signal, remainingMs }) => {
    const observer = runTelemetry(logger, metrics, 'sqs')
    const step = await runJobMessage(record.body, { signal, remainingMs, observer })
    if (step.kind === 'dropped') logger.warn('message dropped', { messageId: record.messageId, reason: step.reason })
    else logger.info('job step done', { jobId: step.jobId, step: step.what })
  },
  { observability: observed },
)
