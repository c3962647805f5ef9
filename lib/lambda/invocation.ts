/**
 * The ways a function is started: API Gateway's HTTP API, an EventBridge schedule, an SQS queue,
 * or a direct invoke (the SDK, the CLI, serverless-offline's Lambda endpoint).
 */
export type Trigger = 'http' | 'schedule' | 'sqs' | 'direct'

/** What a core may know of the invocation running it, without knowing it is a Lambda. */
export interface Invocation {
  /** Aborts shortly before the function's timeout. */
  readonly signal: AbortSignal
  /** Time left before the function's timeout. */
  readonly remainingMs: () => number
  /** How the function was started. */
  readonly trigger: Trigger
  /** For an HTTP request, the scheme and host it was sent to, to build links back to the API. */
  readonly httpOrigin?: string
  /** For a schedule, its event's id: the same when Lambda delivers the event again after a failed run. */
  readonly eventId?: string
}
