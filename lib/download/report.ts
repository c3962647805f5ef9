import type { DownloadError, FailureReason } from './errors.ts'
import { clip } from './failures.ts'
import type { DownloadPlan } from './request.ts'

export type DownloadStatus = 'ok' | 'not_found' | 'error'

/** Why one code did not end as `ok`. */
export interface DownloadFailure {
  readonly code: string
  readonly status: Exclude<DownloadStatus, 'ok'>
  readonly reason: FailureReason
  /** Requests made to the origin for this code; 0 when none was started. */
  readonly attempts: number
  /** The origin's status, when a failure came from its answer. */
  readonly httpStatus?: number
  readonly message: string
}

/** How one code ended: stored (or unchanged at the origin), or a failure. */
export type Outcome = { readonly status: 'ok'; readonly unchanged: boolean; readonly bytes: number } | DownloadFailure

/** The outcome of one run: every requested code is counted exactly once. */
export interface DownloadReport {
  readonly counter: Record<DownloadStatus, number>
  /** Codes counted `ok` because the origin answered 304: the stored object was left as it was. */
  readonly unchanged: number
  /** Bytes stored by this run. */
  readonly bytes: number
  /** Distinct codes asked for: the counter adds up to it. */
  readonly total: number
  /** Codes of the request left out because an earlier one names the same object. */
  readonly duplicates: number
  readonly prefix: string
  readonly elapsedMs: number
  /** The first MAX_FAILURES_LISTED failures, in the order of the codes. */
  readonly failures: DownloadFailure[]
  /** Every code that did not end `ok`, listed or not: `not_found` plus `error`. */
  readonly failuresTotal: number
}

/** One code's end, as an observer hears of it. */
export type CodeFinished =
  | { readonly code: string; readonly status: 'ok'; readonly unchanged: boolean; readonly bytes: number; readonly ms: number }
  | (DownloadFailure & { readonly ms: number })

/** Whoever watches a run (logs, metrics). Called synchronously; must not throw. */
export interface DownloadObserver {
  codeFinished(event: CodeFinished): void
  /** After every code: how many of the run are done. */
  progress(done: number, total: number): void
}

// Enough to see what went wrong in a large run; the counter and failuresTotal cover the rest, and
// every failure has its own log line. 100 failures of bounded messages stay far below Lambda's 6 MB.
export const MAX_FAILURES_LISTED = 100

// A failure message quotes what an origin sent (a redirect target, a host name); this long at most.
const MAX_MESSAGE_CHARACTERS = 300

/** A code's failure as it is reported: its status, the reason, the attempts it took, and a message of bounded length. */
export function codeFailure(code: string, failure: DownloadError, attempts: number, message = failure.message): DownloadFailure {
  return {
    code,
    status: failure.reason === 'not_found' ? 'not_found' : 'error',
    reason: failure.reason,
    attempts,
    ...(failure.httpStatus === undefined ? {} : { httpStatus: failure.httpStatus }),
    message: clip(message, MAX_MESSAGE_CHARACTERS),
  }
}

/** Counts the outcomes of a plan's codes, in its order, into its report. */
export function reportOf(plan: DownloadPlan, outcomes: readonly Outcome[], elapsedMs: number): DownloadReport {
  const counter: Record<DownloadStatus, number> = { ok: 0, not_found: 0, error: 0 }
  const failures: DownloadFailure[] = []
  let unchanged = 0
  let bytes = 0
  for (const outcome of outcomes) {
    counter[outcome.status] += 1
    if (outcome.status === 'ok') {
      if (outcome.unchanged) unchanged += 1
      bytes += outcome.bytes
    } else {
      failures.push(outcome)
    }
  }
  return {
    counter,
    unchanged,
    bytes,
    total: plan.codes.length,
    duplicates: plan.duplicates,
    prefix: plan.prefix,
    elapsedMs,
    failures: failures.slice(0, MAX_FAILURES_LISTED),
    failuresTotal: failures.length,
  }
}

/** A run's report as a trigger answers it: the report, and the bucket its images went to. */
export type DownloadResult = DownloadReport & { readonly bucket: string }
