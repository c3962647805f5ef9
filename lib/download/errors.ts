import { ImgpullError } from '../errors.ts'
import type { TransportFailure } from './ports.ts'

/** A short, machine-readable reason why one code did not end as `ok`. */
export type FailureReason =
  | 'not_found'
  | TransportFailure
  | `http_${number}`
  | 'too_large'
  | 'not_image'
  | 's3'
  | 'deadline'

/** Why one attempt at one code failed, and whether another attempt could succeed. */
export class DownloadError extends ImgpullError {
  override readonly name = 'DownloadError'
  readonly reason: FailureReason
  readonly retryable: boolean
  readonly httpStatus: number | undefined
  /** The origin's `Retry-After`, in ms from now, when it sent one. */
  readonly retryAfterMs: number | undefined

  constructor(
    reason: FailureReason,
    message: string,
    details: { retryable?: boolean; httpStatus?: number; retryAfterMs?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.reason = reason
    this.retryable = details.retryable ?? false
    this.httpStatus = details.httpStatus
    this.retryAfterMs = details.retryAfterMs
  }
}

/**
 * A failure of the connection rather than of the origin's answer; worth another attempt, except
 * `blocked` (a connection or redirect the origin policy refused) and `bad_response` (an answer
 * that is not HTTP the client can read, which the same origin will send again).
 */
export class TransportError extends ImgpullError {
  override readonly name = 'TransportError'
  readonly reason: TransportFailure

  constructor(reason: TransportFailure, message: string, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}
