import { describe, expect, it } from 'vitest'
import { backoffDelayMs, parseRetryAfter, retryDecision, type RetryPolicy } from '../../../lib/download/retry.ts'

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 }

describe('Function: backoffDelayMs', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [4, 800],
    [5, 1000],
    [9, 1000],
  ])('caps retry %i at %i ms and doubles up to the maximum', (retry, ceiling) => {
    expect(backoffDelayMs(retry, policy, () => 0.999999)).toBe(ceiling - 1)
    expect(backoffDelayMs(retry, policy, () => 0)).toBe(0)
  })

  it('spreads delays over the whole range (full jitter)', () => {
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200)
    expect(backoffDelayMs(3, policy, () => 0.25)).toBe(100)
  })
})

describe('Function: parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT')

  it.each([
    ['seconds', '3', 3000],
    ['zero seconds', '0', 0],
    ['an HTTP date', 'Wed, 21 Oct 2026 07:28:05 GMT', 5000],
    ['an obsolete RFC 850 date', 'Wednesday, 21-Oct-26 07:28:02 GMT', 2000],
    ['a date in the past', 'Wed, 21 Oct 2026 07:27:00 GMT', 0],
    ['padding', ' 2 ', 2000],
  ])('reads %s', (_name, value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected)
  })

  it.each([undefined, '', 'soon', '-1', '1.5', '1e3'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined()
  })
})

describe('Function: retryDecision', () => {
  const failure = { retryable: true, retryAfterMs: undefined, message: 'origin answered HTTP 503' }

  it('waits the backoff before a retryable failure is tried again', () => {
    expect(retryDecision(failure, 1, policy, () => 0.5)).toEqual({ delayMs: 50 })
  })

  it("waits what the origin's Retry-After asks, within the wait allowed", () => {
    expect(retryDecision({ ...failure, retryAfterMs: 5000 }, 1, policy)).toEqual({ delayMs: 5000 })
  })

  it('gives up on a final failure, or once the attempts are used up, with the failure’s message', () => {
    expect(retryDecision({ ...failure, retryable: false }, 1, policy)).toEqual({ finalMessage: 'origin answered HTTP 503' })
    expect(retryDecision(failure, policy.maxAttempts, policy)).toEqual({ finalMessage: 'origin answered HTTP 503' })
  })

  it('gives up when Retry-After asks for a longer wait than allowed, and says so', () => {
    expect(retryDecision({ ...failure, retryAfterMs: 120_000 }, 1, policy)).toEqual({
      finalMessage: 'origin answered HTTP 503, Retry-After 120 s is beyond the wait allowed',
    })
  })
})
