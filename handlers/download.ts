import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
import { batchTelemetry, createTelemetry, createTracer, publishMetrics } from '../lib/adapters/telemetry.ts'
import { loadDownloadConfig } from '../lib/config/download.ts'
import { multiTriggerHandler } from '../lib/lambda/multiTrigger.ts'
import { composeDownload } from '../lib/wiring/download.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadDownloadConfig()
const tracer = createTracer()
const download = composeDownload(config, { tracer })
const { logger, metrics } = createTelemetry(config)

export const handler = multiTriggerHandler(
  async (input, { signal, remainingMs, trigger }) => {
    const telemetry = batchTelemetry(logger, metrics, trigger)
    const result = await download(input, { signal, remainingMs, observer: telemetry })
    telemetry.finished(result)
    return result
  },
  {
    maxBodyBytes: config.maxBodyBytes,
    reportUnexpected: (error) => logger.error('unexpected failure', error as Error),
    // The request id and function name go on every log line; metrics are flushed after each invocation.
    outer: [captureLambdaHandler(tracer, { captureResponse: false }), injectLambdaContext(logger, { resetKeys: true }), publishMetrics(metrics)],
  },
)
