import { Logger } from '@aws-lambda-powertools/logger'
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import { Tracer } from '@aws-lambda-powertools/tracer'
import type { MiddlewareObj } from '@middy/core'
import type { CodeFinished, DownloadObserver, DownloadResult } from '../download/report.ts'

const SERVICE = 'imgpull'
// Below this size a run is quick enough that its summary line says all there is to say.
const PROGRESS_MIN_CODES = 100
const PROGRESS_STEPS = 10

export interface TelemetryOptions {
  /** CloudWatch namespace of the metrics. */
  readonly metricsNamespace: string
}

/** Structured JSON logs, from Powertools for AWS Lambda; it reads the log level itself, from POWERTOOLS_LOG_LEVEL (or AWS_LAMBDA_LOG_LEVEL). */
export function createLogger(): Logger {
  return new Logger({ serviceName: SERVICE })
}

/** CloudWatch embedded-format metrics (EMF), in the function's namespace. */
export function createMetrics({ metricsNamespace }: TelemetryOptions): Metrics {
  return new Metrics({ serviceName: SERVICE, namespace: metricsNamespace })
}

/** X-Ray tracing from Powertools; it reads POWERTOOLS_TRACE_ENABLED itself, and is off outside Lambda. */
export function createTracer(): Tracer {
  // Not every HTTP call: the origin would get X-Ray's header, and each request two subsegments
  // (tracedPorts makes the ones that say what a call was for).
  return new Tracer({ serviceName: SERVICE, captureHTTPsRequests: false })
}

/** Watches one run: a log line per failure, progress for long runs, metrics, a summary. */
export interface RunTelemetry extends DownloadObserver {
  finished(result: DownloadResult): void
}

/** Telemetry of one run; `trigger` (how the function was started) goes on its metrics and summary. */
export function runTelemetry(logger: Logger, metrics: Metrics, trigger: string): RunTelemetry {
  // A default dimension outlives the flushes Powertools makes every 100 values. Powertools warns
  // whenever one is set again, so a warm container replaces the whole set rather than the trigger.
  metrics.clearDefaultDimensions()
  metrics.setDefaultDimensions({ service: SERVICE, trigger })
  let reportedSteps = 0

  return {
    codeFinished(event: CodeFinished) {
      metrics.addMetric('downloadLatency', MetricUnit.Milliseconds, event.ms)
      if (event.status === 'ok') {
        logger.debug('image stored', { code: event.code, bytes: event.bytes, unchanged: event.unchanged, ms: event.ms })
        return
      }
      const { code, status, reason, attempts, ms, httpStatus, message } = event
      logger.warn('image failed', { code, status, reason, attempts, ms, httpStatus, detail: message })
    },

    progress(done, total) {
      if (total <= PROGRESS_MIN_CODES) return
      const steps = Math.floor((done * PROGRESS_STEPS) / total)
      if (steps <= reportedSteps) return
      reportedSteps = steps
      logger.info('batch progress', { done, total, percent: Math.floor((done * 100) / total) })
    },

    finished({ counter, unchanged, bytes, total, duplicates, elapsedMs, bucket, prefix }) {
      metrics.addMetric('ok', MetricUnit.Count, counter.ok)
      metrics.addMetric('notFound', MetricUnit.Count, counter.not_found)
      metrics.addMetric('error', MetricUnit.Count, counter.error)
      metrics.addMetric('unchanged', MetricUnit.Count, unchanged)
      metrics.addMetric('bytesStored', MetricUnit.Bytes, bytes)
      logger.info('batch finished', { trigger, counter, unchanged, bytes, total, duplicates, elapsedMs, bucket, prefix })
    },
  }
}

/**
 * Publishes an invocation's metrics once it ends, as Powertools' logMetrics does, except that an
 * invocation which recorded none (a refused request) publishes nothing and warns of nothing.
 */
export function publishMetrics(metrics: Metrics): MiddlewareObj {
  const publish = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics()
  }
  return { after: publish, onError: publish }
}
