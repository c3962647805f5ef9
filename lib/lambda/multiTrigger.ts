import middy, { type MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { isClientError, ValidationError } from '../errors.ts'
import { errorResponse, type ReportUnexpected } from './errorResponses.ts'
import { isHttpApiEvent, isScheduledEvent, parseJsonBody, requestObjectOf, triggerOf } from './events.ts'
import type { Invocation, Trigger } from './invocation.ts'
import type { Observability } from './observability.ts'
import { jsonResponse } from './responses.ts'
import { sourceMappedStack } from './sourceMappedStack.ts'

/** The core a multi-trigger function runs: a plain input in, a plain result out. */
export type TriggerHandler<TResult> = (input: unknown, invocation: Invocation) => Promise<TResult>

interface TriggerState extends Record<string, unknown> {
  trigger?: Trigger
}

/** What the trigger adapter hands the core: the request and how it came. */
interface Triggered {
  readonly input: unknown
  readonly trigger: Trigger
  readonly httpOrigin?: string
  readonly eventId?: string
}

/** The request an event carries: an HTTP body, a schedule's detail, or a direct invoke's event itself. */
function inputOf(event: unknown, options: TriggerOptions): unknown {
  if (isHttpApiEvent(event)) return options.httpInput === undefined ? parseJsonBody(event, options.maxBodyBytes) : options.httpInput(event)
  // Empty for a rule's own event; the request when the rule's input transformer puts one there.
  if (isScheduledEvent(event)) return requestObjectOf(event.detail, 'detail')
  return requestObjectOf(event, 'event')
}

/**
 * Adapts one core to the ways a function is started. An HTTP API event is unwrapped to its JSON
 * body and the result answered as JSON 200, errors as JSON 4xx/500. A schedule's event is its
 * `detail`. A direct invoke's event is the request itself; its errors are thrown, typed, to the
 * invoker. Every request must be a JSON object, or absent.
 * An event of a trigger the function does not take (an SQS batch sent to it) is refused as such.
 */
function triggerAdapter(options: TriggerOptions): MiddlewareObj<unknown, unknown, Error, Context, TriggerState> {
  const { triggers = DEFAULT_TRIGGERS, httpStatus = 200 } = options
  const reportUnexpected = options.reportUnexpected ?? options.observability?.reportUnexpected
  return {
    name: 'triggerAdapter',
    before: (request) => {
      // Known before the body is parsed, so that a bad body is answered as HTTP too.
      const trigger = triggerOf(request.event)
      request.internal.trigger = trigger
      if (!triggers.includes(trigger)) throw new ValidationError(`this function is not started by ${trigger} events`)
      const httpOrigin = isHttpApiEvent(request.event) ? originOf(request.event) : undefined
      // What stays the same when Lambda tries an event again: a schedule's event id, or an
      // invocation's request id (an asynchronous invocation is retried with its id).
      const eventId = isScheduledEvent(request.event) && typeof request.event.id === 'string' ? request.event.id : trigger === 'direct' ? request.context.awsRequestId : undefined
      request.event = {
        input: inputOf(request.event, options),
        trigger,
        ...(httpOrigin === undefined ? {} : { httpOrigin }),
        ...(eventId === undefined ? {} : { eventId }),
      } satisfies Triggered
    },
    after: (request) => {
      if (request.internal.trigger === 'http') request.response = jsonResponse(httpStatus, request.response)
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

const DEFAULT_TRIGGERS: readonly Trigger[] = ['http', 'schedule', 'direct']

/** What the core gets of an HTTP request: its JSON body, of at most `maxBodyBytes`, or what `httpInput` picks from the event. */
type HttpInputOptions =
  | {
      /** The largest HTTP body accepted (413 beyond). Direct invokes are bounded by Lambda's own 6 MB. */
      readonly maxBodyBytes: number
      readonly httpInput?: undefined
    }
  | {
      readonly httpInput: (event: APIGatewayProxyEventV2) => unknown
      readonly maxBodyBytes?: undefined
    }

export type TriggerOptions = HttpInputOptions & {
  /** The status of a successful HTTP answer; 200 by default. */
  readonly httpStatus?: number
  /** The triggers the function takes; HTTP, schedule and direct by default. */
  readonly triggers?: readonly Trigger[]
  /** Records failures that are not the caller's fault; the observability's logger, else the console, by default. */
  readonly reportUnexpected?: ReportUnexpected
  /** The function's logging, metrics and tracing, run around everything else. */
  readonly observability?: Observability
}

/** Wraps a core so that every trigger a function takes reaches it the same way. */
export function multiTriggerHandler<TResult>(core: TriggerHandler<TResult>, options: TriggerOptions) {
  const handler = middy<unknown, unknown, Error, Context, TriggerState>(
    // The trigger adapter's `before` has turned the event into a Triggered by now.
    (event: unknown, context: Context, { signal }: { signal: AbortSignal }) => {
      const { input, trigger, ...about } = event as Triggered
      return core(input, { signal, remainingMs: () => context.getRemainingTimeInMillis(), trigger, ...about })
    },
  )
  for (const middleware of options.observability?.middlewares ?? []) handler.use(middleware as MiddlewareObj<unknown, unknown, Error, Context, TriggerState>)
  return handler.use(triggerAdapter(options))
}

/** Where an HTTP request was sent: API Gateway passes the scheme it was received over, and the host. */
function originOf(event: APIGatewayProxyEventV2): string | undefined {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]))
  const host = headers['host']
  if (typeof host !== 'string' || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return undefined
  const scheme = headers['x-forwarded-proto'] === 'https' ? 'https' : 'http'
  return `${scheme}://${host}`
}
