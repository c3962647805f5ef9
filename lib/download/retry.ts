/** How failed attempts are repeated. */
export interface RetryPolicy {
  /** Attempts per code, the first included. */
  readonly maxAttempts: number
  /** The backoff cap of the first retry; it doubles with every further one. */
  readonly baseDelayMs: number
  /** No backoff waits longer than this. */
  readonly maxDelayMs: number
  /** The longest `Retry-After` honoured; an origin asking for more is not retried. */
  readonly maxRetryAfterMs: number
}

/**
 * Capped exponential backoff with full jitter, as the AWS SDK's standard retry mode: a random
 * wait between 0 and min(maxDelay, base × 2^(retry − 1)), so that many clients retrying at once
 * spread out instead of returning together.
 */
export function backoffDelayMs(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1))
  return Math.floor(random() * ceiling)
}

/**
 * A `Retry-After` header in ms from `nowMs`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable; a date in the past is 0.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // Date.parse reads almost anything as a date; an HTTP date always names its day or month.
  const date = /[A-Za-z]/.test(text) ? Date.parse(text) : Number.NaN
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMs)
}

/** What decides whether a failed attempt is retried. */
export interface AttemptFailure {
  readonly retryable: boolean
  /** The origin's `Retry-After`, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined
  readonly message: string
}

/** Another attempt after a wait, or none, with the message the code fails with. */
export type RetryDecision = { readonly delayMs: number } | { readonly finalMessage: string }

/**
 * Whether attempt number `attempt`, failed, is followed by another, and after how long: not when
 * the failure is final, the attempts are used up, or the origin's Retry-After asks for a longer
 * wait than allowed; otherwise after its Retry-After, or the backoff.
 */
export function retryDecision(failure: AttemptFailure, attempt: number, policy: RetryPolicy, random: () => number = Math.random): RetryDecision {
  if (!failure.retryable || attempt >= policy.maxAttempts) return { finalMessage: failure.message }
  if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxRetryAfterMs) {
    const waitS = Math.ceil(failure.retryAfterMs / 1000)
    return { finalMessage: `${failure.message}, Retry-After ${waitS} s is beyond the wait allowed` }
  }
  return { delayMs: failure.retryAfterMs ?? backoffDelayMs(attempt, policy, random) }
}
