import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import { batchTelemetry, createTelemetry, publishMetrics } from '../lib/adapters/telemetry.ts'
import { loadDownloadConfig } from '../lib/config.ts'
import { multiTriggerHandler } from '../lib/middleware.ts'
import { wireDownloader } from '../lib/wiring.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadDownloadConfig()
const download = wireDownloader(config)
const { logger, metrics } = createTelemetry()

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
    outer: [injectLambdaContext(logger, { resetKeys: true }), publishMetrics(metrics)],
  },
)
