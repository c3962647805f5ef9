import type { Readable } from 'node:stream'
import type { AttemptClock } from './attemptClock.ts'
import { byteBudget, type Admission } from './budget.ts'

// What a request is admitted with before any body of the run has told how large they are.
const FIRST_ESTIMATE_BYTES = 1024 * 1024

/** A run's admissions of origin requests against its memory budget. */
export interface RequestAdmissions {
  /**
   * Admits one request, before it is sent, with the most any body of the run has needed so far
   * (1 MiB before the first): a full budget holds new requests back.
   */
  admit(signal: AbortSignal): Promise<Admission>
  /** Tells what a body needed, for the requests admitted after it. */
  noteNeed(bytes: number): void
}

/** The admissions of one run: a budget of `memoryBudgetBytes` that keeps one stream's bytes free. */
export function requestAdmissions(memoryBudgetBytes: number, streamedBytes: number): RequestAdmissions {
  const budget = byteBudget(memoryBudgetBytes, streamedBytes)
  let largestNeed = 0
  return {
    admit: (signal) => budget.admit(largestNeed === 0 ? FIRST_ESTIMATE_BYTES : largestNeed, signal),
    noteNeed: (bytes) => {
      largestNeed = Math.max(largestNeed, bytes)
    },
  }
}

/**
 * What a body needs before a byte of it is read: one of known length within one part as it is; a
 * larger one as the parts a stream holds; one of unknown length as a part, until it passes one.
 */
export function needBeforeReading(contentLength: number | undefined, partBytes: number, streamedBytes: number): number {
  if (contentLength === undefined) return partBytes
  return contentLength <= partBytes ? contentLength : streamedBytes
}

/**
 * Settles an admission to `bytes` with the attempt's clock stopped, since waiting for memory is
 * not the origin's time. When the wait fails (the run aborts), the body is destroyed, closing its request.
 */
export async function settleBeforeReading(admission: Admission, bytes: number, clock: AttemptClock, signal: AbortSignal, body: Readable): Promise<void> {
  try {
    await clock.paused(() => admission.settle(bytes, signal))
  } catch (error) {
    body.destroy()
    throw error
  }
}
