import { runTelemetry } from '../lib/adapters/telemetry.ts'
import { loadDownloadConfig } from '../lib/config/download.ts'
import { multiTriggerHandler } from '../lib/lambda/multiTrigger.ts'
import { observability } from '../lib/lambda/observability.ts'
import { composeDownload } from '../lib/wiring/download.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadDownloadConfig()
const observed = observability({ metricsNamespace: config.metricsNamespace, traced: true })
const download = composeDownload(config, { tracer: observed.tracer })
const { logger, metrics } = observed

export const handler = multiTriggerHandler(
  async (input, { signal, remainingMs, trigger }) => {
    const telemetry = runTelemetry(logger, metrics, trigger)
    const result = await download(input, { signal, remainingMs, observer: telemetry })
    telemetry.finished(result)
    return result
  },
  { maxBodyBytes: config.maxBodyBytes, observability: observed },
)
