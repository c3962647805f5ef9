import type { Logger } from '@aws-lambda-powertools/logger'
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import type { Metrics } from '@aws-lambda-powertools/metrics'
import type { Tracer } from '@aws-lambda-powertools/tracer'
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware'
import type { MiddlewareObj } from '@middy/core'
import { createLogger, createMetrics, createTracer, publishMetrics } from '../adapters/telemetry.ts'
import type { ReportUnexpected } from './errorResponses.ts'

/** A function's logger, and the middlewares that bind it, and its metrics and tracer where it has them, to each invocation. */
export interface Observability {
  readonly logger: Logger
  /** Outermost first, for a trigger wrapper to run around everything else. */
  readonly middlewares: readonly MiddlewareObj[]
  /** Logs a failure that is not the caller's fault. */
  readonly reportUnexpected: ReportUnexpected
}

/** The observability of a function that publishes metrics. */
export interface MeteredObservability extends Observability {
  readonly metrics: Metrics
}

/** The observability of a function whose invocations are traced in X-Ray too. */
export interface TracedObservability extends MeteredObservability {
  readonly tracer: Tracer
}

/** What a function's observability holds besides its logger. */
export interface ObservabilityOptions {
  /** CloudWatch namespace of the function's metrics; a function without one publishes none. */
  readonly metricsNamespace?: string
  /** Whether the function traces its invocations (with Powertools, when POWERTOOLS_TRACE_ENABLED allows). */
  readonly traced?: boolean
}

/**
 * The one observability preset every function takes: a trace around the whole invocation, then the
 * request id and function name on every log line (reset between invocations), then the metrics
 * flushed as the invocation ends.
 */
export function observability(options: ObservabilityOptions & { readonly metricsNamespace: string; readonly traced: true }): TracedObservability
export function observability(options: ObservabilityOptions & { readonly metricsNamespace: string }): MeteredObservability
export function observability(options?: ObservabilityOptions): Observability
export function observability({ metricsNamespace, traced = false }: ObservabilityOptions = {}): Observability {
  const logger = createLogger()
  const metrics = metricsNamespace === undefined ? undefined : createMetrics({ metricsNamespace })
  const tracer = traced ? createTracer() : undefined
  const middlewares = [
    ...(tracer === undefined ? [] : [captureLambdaHandler(tracer, { captureResponse: false })]),
    injectLambdaContext(logger, { resetKeys: true }),
    ...(metrics === undefined ? [] : [publishMetrics(metrics)]),
  ]
  return {
    logger,
    middlewares,
    reportUnexpected: (error) => logger.error('unexpected failure', error as Error),
    ...(metrics === undefined ? {} : { metrics }),
    ...(tracer === undefined ? {} : { tracer }),
  }
}
