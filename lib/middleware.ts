import middy, { type MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { isClientError } from './errors.ts'
import { isHttpApiEvent, isScheduledEvent, parseJsonBody } from './http/events.ts'
import { jsonResponse, type HttpResponse } from './http/responses.ts'
import { sourceMappedStack } from './sourceMappedStack.ts'

/** Where an unexpected failure is recorded, since its client only sees a bare 500. */
export type ReportUnexpected = (error: unknown) => void

const toConsole: ReportUnexpected = (error) => console.error(error)

/** Turns an error into the response a client may see: its own message for a 4xx, nothing else for the rest. */
function errorResponse(error: unknown, reportUnexpected: ReportUnexpected = toConsole): HttpResponse {
  if (isClientError(error)) return jsonResponse(error.statusCode, { message: error.message })
  reportUnexpected(sourceMappedStack(error))
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

/** What a core may know of the invocation running it, without knowing it is a Lambda. */
export interface Invocation {
  /** Aborts shortly before the function's timeout. */
  readonly signal: AbortSignal
  /** Time left before the function's timeout. */
  readonly remainingMs: () => number
  /** How the function was started. */
  readonly trigger: Trigger
}

/** The ways a multi-trigger function is started: API Gateway, an EventBridge schedule, or a direct invoke. */
export type Trigger = 'http' | 'schedule' | 'direct'

/** The core a multi-trigger function runs: a plain input in, a plain result out. */
export type TriggerHandler<TResult> = (input: unknown, invocation: Invocation) => Promise<TResult>

interface TriggerState extends Record<string, unknown> {
  trigger?: Trigger
}

/** What the trigger adapter hands the core: the request and how it came. */
interface Triggered {
  readonly input: unknown
  readonly trigger: Trigger
}

/**
 * Adapts one core to every way a function is started. An HTTP API event is unwrapped to its
 * JSON body and the result answered as JSON 200, errors as JSON 4xx/500. A schedule's event is
 * its `detail` (empty for a rule's own event; the batch when the rule's `input` carries one). A
 * direct invoke is passed through as is; its errors are thrown, typed, to the invoker.
 */
function triggerAdapter({
  maxBodyBytes,
  reportUnexpected,
}: TriggerOptions): MiddlewareObj<unknown, unknown, Error, Context, TriggerState> {
  return {
    name: 'triggerAdapter',
    before: (request) => {
      const { event } = request
      if (isHttpApiEvent(event)) {
        // Known before the body is parsed, so that a bad body is answered as HTTP too.
        request.internal.trigger = 'http'
        request.event = { input: parseJsonBody(event, maxBodyBytes), trigger: 'http' } satisfies Triggered
      } else if (isScheduledEvent(event)) {
        request.internal.trigger = 'schedule'
        request.event = { input: event.detail ?? {}, trigger: 'schedule' } satisfies Triggered
      } else {
        request.internal.trigger = 'direct'
        request.event = { input: event, trigger: 'direct' } satisfies Triggered
      }
    },
    after: (request) => {
      if (request.internal.trigger === 'http') request.response = jsonResponse(200, request.response)
    },
    onError: (request) => {
      if (request.internal.trigger === 'http') request.response = errorResponse(request.error, reportUnexpected)
      else if (!isClientError(request.error)) {
        // Rethrown to the invoker, whose Lambda runtime logs the stack too: mapped once for both.
        sourceMappedStack(request.error)
        reportUnexpected?.(request.error)
      }
    },
  }
}

export interface TriggerOptions {
  /** The largest HTTP body accepted (413 beyond). Direct invokes are bounded by Lambda's own 6 MB. */
  readonly maxBodyBytes: number
  /** Records failures that are not the caller's fault; the console by default. */
  readonly reportUnexpected?: ReportUnexpected
  /** Middlewares that run around everything else, such as logging and metrics. */
  readonly outer?: readonly MiddlewareObj[]
}

/** Wraps a core so that HTTP, schedule and direct invokes all reach it the same way. */
export function multiTriggerHandler<TResult>(core: TriggerHandler<TResult>, options: TriggerOptions) {
  const handler = middy<unknown, unknown, Error, Context, TriggerState>(
    // The trigger adapter's `before` has turned the event into a Triggered by now.
    (event: unknown, context: Context, { signal }: { signal: AbortSignal }) => {
      const { input, trigger } = event as Triggered
      return core(input, { signal, remainingMs: () => context.getRemainingTimeInMillis(), trigger })
    },
  )
  for (const middleware of options.outer ?? []) handler.use(middleware as MiddlewareObj<unknown, unknown, Error, Context, TriggerState>)
  return handler.use(triggerAdapter(options))
}
