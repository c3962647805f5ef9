/**
 * Errors a caller can act on carry an HTTP status and `expose: true`, the convention middy's
 * error handlers use, so one middleware maps them to responses and hides everything else.
 */
export class ClientError extends Error {
  readonly statusCode: number
  readonly expose = true

  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ClientError'
    this.statusCode = statusCode
  }
}

/** A request the caller can fix: HTTP 400 with its message, or a typed error for direct invokes. */
export class ValidationError extends ClientError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, message, options)
    this.name = 'ValidationError'
  }
}

/** An environment variable that is missing or malformed; thrown at cold start, never per request. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`)
    this.name = 'ConfigError'
  }
}

/** Whether an error is one whose message is meant for the caller. */
export function isClientError(error: unknown): error is ClientError {
  return error instanceof ClientError
}
