import middy, { type MiddlewareObj } from '@middy/core'
import httpSecurityHeaders from '@middy/http-security-headers'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { isClientError } from './errors.ts'
import { isHttpApiEvent, isScheduledEvent, parseJsonBody } from './http/events.ts'
import { jsonResponse, type HttpResponse } from './http/responses.ts'

/** Turns an error into the response a client may see: its own message for a 4xx, nothing else for the rest. */
function errorResponse(error: unknown): HttpResponse {
  if (isClientError(error)) return jsonResponse(error.statusCode, { message: error.message })
  console.error(error)
  return jsonResponse(500, { message: 'Internal Server Error' })
}

/** Answers every error of an HTTP handler as JSON `{message}`; no stack trace reaches a client. */
export function jsonErrors(): MiddlewareObj<APIGatewayProxyEventV2, HttpResponse> {
  return {
    name: 'jsonErrors',
    onError: (request) => {
      if (request.response !== undefined && request.response !== null) return
      request.response = errorResponse(request.error)
    },
  }
}

type HttpRouteHandler = (event: APIGatewayProxyEventV2, context: Context) => HttpResponse | Promise<HttpResponse>

/**
 * Browser-facing security headers (helmet's set, via middy), with a Content-Security-Policy that
 * lets the pages load nothing at all: they are plain HTML with no scripts, styles or images.
 */
function pageSecurityHeaders() {
  return httpSecurityHeaders({
    contentSecurityPolicy: { 'default-src': "'none'", 'report-to': '' },
    reportTo: false,
  })
}

/** Wraps a handler that serves only API Gateway HTTP API routes. */
export function httpApiHandler(handler: HttpRouteHandler) {
  // Security headers go on last so that they apply to error responses too.
  return middy<APIGatewayProxyEventV2, HttpResponse>(handler).use(pageSecurityHeaders()).use(jsonErrors())
}

/** What a core may know of the invocation running it, without knowing it is a Lambda. */
export interface Invocation {
  /** Aborts shortly before the function's timeout. */
  readonly signal: AbortSignal
  /** Time left before the function's timeout. */
  readonly remainingMs: () => number
}

/** The core a multi-trigger function runs: a plain input in, a plain result out. */
export type TriggerHandler<TResult> = (input: unknown, invocation: Invocation) => Promise<TResult>

interface TriggerState extends Record<string, unknown> {
  viaHttp?: boolean
}

/**
 * Adapts one core to every way a function is started. An HTTP API event is unwrapped to its
 * JSON body and the result answered as JSON 200, errors as JSON 4xx/500. A schedule's own event
 * (a rule without `input`) is an empty request. A direct invoke or a schedule `input` is passed
 * through as is; its errors are thrown, typed, to the invoker.
 */
function triggerAdapter({ maxBodyBytes }: TriggerOptions): MiddlewareObj<unknown, unknown, Error, Context, TriggerState> {
  return {
    name: 'triggerAdapter',
    before: (request) => {
      const { event } = request
      if (isHttpApiEvent(event)) {
        request.internal.viaHttp = true
        request.event = parseJsonBody(event, maxBodyBytes)
      } else if (isScheduledEvent(event)) {
        request.event = {}
      }
    },
    after: (request) => {
      if (request.internal.viaHttp === true) request.response = jsonResponse(200, request.response)
    },
    onError: (request) => {
      if (request.internal.viaHttp === true) request.response = errorResponse(request.error)
    },
  }
}

export interface TriggerOptions {
  /** The largest HTTP body accepted (413 beyond). Direct invokes are bounded by Lambda's own 6 MB. */
  readonly maxBodyBytes: number
}

/** Wraps a core so that HTTP, schedule and direct invokes all reach it the same way. */
export function multiTriggerHandler<TResult>(core: TriggerHandler<TResult>, options: TriggerOptions) {
  return middy<unknown, unknown, Error, Context, TriggerState>(
    (input: unknown, context: Context, { signal }: { signal: AbortSignal }) =>
      core(input, { signal, remainingMs: () => context.getRemainingTimeInMillis() }),
  ).use(triggerAdapter(options))
}
