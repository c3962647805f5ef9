import type { FailureReason } from '../download/errors.ts'
import type { DownloadFailure, DownloadStatus } from '../download/report.ts'

/**
 * A jobs reason, beside the download reasons: a chunk whose codes were counted `error` without
 * being run (it went to the dead-letter queue, or could not be queued or run at all).
 */
export type ChunkFailureReason = 'dead_letter'

/** A code of a job that did not end `ok`: a download's failure, or one of a chunk never run. */
export type JobFailure = Omit<DownloadFailure, 'reason'> & { readonly reason: FailureReason | ChunkFailureReason }

export type JobState = 'queued' | 'running' | 'done'

/** A job as `GET /jobs/{jobId}` shows it: one read, whatever its size. */
export interface JobStatus {
  readonly jobId: string
  readonly state: JobState
  /** The key prefix its images are stored under. */
  readonly prefix: string
  /** Distinct codes of the job: the counter adds up to it once the job is done. */
  readonly total: number
  readonly chunks: number
  readonly chunksDone: number
  readonly counter: Record<DownloadStatus, number>
  readonly unchanged: number
  readonly bytes: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly finishedAt: string | null
  /** The key of the report of failed codes in the bucket, once the job is done. */
  readonly reportKey: string | null
}

/** What is stored of a job when it is accepted. */
export interface NewJob {
  readonly jobId: string
  readonly total: number
  readonly duplicates: number
  readonly chunks: number
  readonly prefix: string
  readonly maxOriginRequests: number
  readonly createdAt: string
}

/** How one chunk of a job ended: counted into its job once, whatever happens to its message. */
export interface ChunkOutcome {
  readonly chunk: number
  readonly counter: Record<DownloadStatus, number>
  readonly unchanged: number
  readonly bytes: number
  /** Every code of the chunk that did not end `ok`. */
  readonly failures: readonly JobFailure[]
}

/** A job's id: a UUID, as the planner makes them. */
export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
