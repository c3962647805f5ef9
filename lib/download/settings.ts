import type { RetryPolicy } from './retry.ts'

/** The limits every run works within, from the function's configuration. */
export interface EngineSettings {
  readonly maxImageBytes: number
  readonly retry: RetryPolicy
  /** Time kept back before the deadline to abort running downloads, clean up and answer. */
  readonly deadlineReserveMs: number
  /** The longest one attempt may take, from the request to the body's last byte; then it fails as `timeout`. */
  readonly attemptTimeoutMs: number
  /** The slowest average a body may arrive at, in bytes per second, before it fails as `timeout`; 0: any. */
  readonly minBodyBytesPerSecond: number
  /**
   * The most body bytes held in memory at once: bodies read and waiting for their upload, and
   * parts of streamed ones. When they would not fit, the next origin request waits.
   */
  readonly memoryBudgetBytes: number
  /**
   * Bodies up to this size are read whole, their origin slot freed, and uploaded in one request;
   * larger ones stream to the sink while they keep their slot.
   */
  readonly maxBufferedBytes: number
  /** What the sink holds of a streamed body at once. */
  readonly maxStreamedBytes: number
  /** Look-ups of stored copies, and uploads, in flight at once: two pools of this size, apart from the origin's. */
  readonly storeConcurrency: number
}
