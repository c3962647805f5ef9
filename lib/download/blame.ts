import { DownloadError } from './errors.ts'
import { deadlineFailure, originFailure, storeFailure } from './failures.ts'

// Whose fault a failed step was: the origin's, the store's, or the deadline's.

/**
 * What an origin error of one attempt counts as. An origin cut off by the attempt's own clock
 * failed by being too slow, whatever its client says; any other origin error is passed on as the
 * DownloadError it is or becomes.
 */
export function attemptFailure(error: unknown, clockSignal: AbortSignal, runSignal: AbortSignal, attemptTimeoutMs: number): DownloadError {
  return clockSignal.aborted && !runSignal.aborted
    ? new DownloadError('timeout', `origin: attempt took longer than ${attemptTimeoutMs} ms`, { retryable: true, cause: error })
    : originFailure(error)
}

/** A look-up or an upload that failed: cut short by the deadline, or else the store's failure. */
export function storeStepFailure(error: unknown, signal: AbortSignal): DownloadError {
  return signal.aborted ? deadlineFailure() : storeFailure(error)
}

/** A streamed upload that failed: a body that broke mid-stream fails the upload too, so the side that actually failed is blamed. */
export function streamedUploadFailure(error: unknown, brokenBody: DownloadError | undefined): DownloadError {
  return brokenBody === undefined ? storeFailure(error) : originFailure(brokenBody)
}
