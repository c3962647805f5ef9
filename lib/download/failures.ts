import { DownloadError, TransportError } from './errors.ts'

/**
 * Whether another attempt could get another answer. 408 and 429 say "later"; 5xx says "not now".
 * Every other status will answer the same again, and one past 599 is not HTTP at all.
 */
export function isRetryableStatus(httpStatus: number): boolean {
  return httpStatus === 408 || httpStatus === 429 || (httpStatus >= 500 && httpStatus <= 599)
}

/** A failed answer from the origin: 404 is final, the rest are `http_<status>`. */
export function httpFailure(httpStatus: number, retryAfterMs?: number): DownloadError {
  if (httpStatus === 404) return new DownloadError('not_found', 'not found', { httpStatus })
  return new DownloadError(`http_${httpStatus}`, `origin answered HTTP ${httpStatus}`, {
    httpStatus,
    retryable: isRetryableStatus(httpStatus),
    retryAfterMs,
  })
}

/** Anything an origin's connection threw, as a DownloadError; unknown errors count as network failures. */
export function originFailure(error: unknown): DownloadError {
  if (error instanceof DownloadError) return error
  if (error instanceof TransportError) {
    return new DownloadError(error.reason, `origin: ${error.message}`, {
      retryable: error.reason !== 'blocked' && error.reason !== 'bad_response',
      cause: error,
    })
  }
  return new DownloadError('network', `origin: ${messageOf(error)}`, { retryable: true, cause: error })
}

/** A store failure. The S3 client has already retried what it could, so it is final. */
export function storeFailure(error: unknown): DownloadError {
  return new DownloadError('s3', `store: ${messageOf(error)}`, { cause: error })
}

/** The failure of a code the deadline cut short or never let start. */
export function deadlineFailure(): DownloadError {
  return new DownloadError('deadline', 'deadline')
}

/** Text cut to at most `max` characters, marked where it was cut: for values an outsider chose. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/** An error's message, with its cause's when that says something more. */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error && error.cause.message !== error.message ? `: ${error.cause.message}` : ''
  return `${error.message}${cause}`
}
