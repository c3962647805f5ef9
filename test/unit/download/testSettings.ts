import type { EngineSettings } from '../../../lib/download/settings.ts'

/** The limits the download core's unit tests run within: small images, quick retries, no time limit to speak of. */
export const testSettings: EngineSettings = Object.freeze({
  maxImageBytes: 1024,
  retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 50 },
  deadlineReserveMs: 100,
  attemptTimeoutMs: 60_000,
  minBodyBytesPerSecond: 0,
  memoryBudgetBytes: 64 * 1024 * 1024,
  maxBufferedBytes: 5 * 1024 * 1024,
  maxStreamedBytes: 15 * 1024 * 1024,
  storeConcurrency: 8,
})
