/** The clock of one attempt: it runs while the origin is waited on, and stops for our own waits. */
export interface AttemptClock {
  /** Aborts when the attempt has taken its time. */
  readonly signal: AbortSignal
  /** Runs `wait` with the clock stopped, and starts it again with the time it had left. */
  paused<T>(wait: () => Promise<T>): Promise<T>
  stop(): void
}

/** Starts an attempt's clock of `timeoutMs`; its signal aborts once that much time has run on it. */
export function attemptClock(timeoutMs: number): AttemptClock {
  const expiry = new AbortController()
  let leftMs = timeoutMs
  let startedAt = performance.now()
  let timer: NodeJS.Timeout | undefined = setTimeout(() => expiry.abort(), leftMs)
  const stop = () => {
    if (timer === undefined) return
    clearTimeout(timer)
    timer = undefined
    leftMs -= performance.now() - startedAt
  }
  return {
    signal: expiry.signal,
    async paused(wait) {
      stop()
      try {
        return await wait()
      } finally {
        if (!expiry.signal.aborted) {
          startedAt = performance.now()
          timer = setTimeout(() => expiry.abort(), Math.max(0, leftMs))
        }
      }
    },
    stop,
  }
}
