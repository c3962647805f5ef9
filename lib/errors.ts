/**
 * The base of imgpull's own errors: each core package's errors module extends it, so a caller can
 * tell imgpull's errors from any other, and every one keeps its `cause`.
 */
export class ImgpullError extends Error {
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * Errors a caller can act on carry an HTTP status and `expose: true`, the convention middy's
 * error handlers use, so one middleware maps them to responses and hides everything else.
 */
export class ClientError extends ImgpullError {
  readonly statusCode: number
  readonly expose = true

  constructor(statusCode: number, message: string, options?: ErrorOptions) {
    super(message, options)
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

/**
 * Whether an error's message is meant for the caller: a 4xx marked `expose`, by middy's
 * convention, so middy's own HttpErrors (e.g. the router's 404) count as well as ours.
 */
export function isClientError(error: unknown): error is Error & { statusCode: number } {
  if (!(error instanceof Error)) return false
  const { statusCode, expose } = error as Error & { statusCode?: unknown; expose?: unknown }
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 && expose !== false
}
