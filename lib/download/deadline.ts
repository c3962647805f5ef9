/** The run's view of the time it has left. */
export interface Deadline {
  /** Aborts once only the reserve is left, or when the caller aborts the run. */
  readonly signal: AbortSignal
  /** Whether work expected to take `expectedMs` can still finish before the reserve. */
  allowsStart(expectedMs: number): boolean
  /** Stops the timer; call once the run is over. */
  dispose(): void
}

// setTimeout fires at once for delays beyond a 32-bit int; no Lambda runs that long anyway.
const LONGEST_TIMER_MS = 2 ** 31 - 1

/**
 * Watches the time left (the Lambda context's getRemainingTimeInMillis, or none at all) and
 * keeps `reserveMs` of it back for aborting running work, cleaning up and answering.
 */
export function startDeadline(
  remainingMs: (() => number) | undefined,
  reserveMs: number,
  external: AbortSignal | undefined,
): Deadline {
  const timeUp = new AbortController()
  const signal = external === undefined ? timeUp.signal : AbortSignal.any([timeUp.signal, external])
  const budgetMs = remainingMs === undefined ? undefined : remainingMs() - reserveMs
  const timer =
    budgetMs === undefined || budgetMs > LONGEST_TIMER_MS
      ? undefined
      : setTimeout(() => timeUp.abort(new Error('deadline')), Math.max(0, budgetMs))

  return {
    signal,
    allowsStart: (expectedMs) =>
      !signal.aborted && (remainingMs === undefined || remainingMs() - reserveMs > expectedMs),
    dispose: () => clearTimeout(timer),
  }
}
