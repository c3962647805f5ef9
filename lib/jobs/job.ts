import type { FailureReason } from '../download/errors.ts'
import type { DownloadFailure, DownloadStatus } from '../download/report.ts'

/**
 * A jobs reason, beside the download reasons: a code counted `error` without having been stored
 * by any delivery (its chunk went to the dead-letter queue, or was refused when it came to run).
 */
export type ChunkFailureReason = 'dead_letter'

/** A code of a job that did not end `ok`: a download's failure, or one of a chunk never run. */
export type JobFailure = Omit<DownloadFailure, 'reason'> & { readonly reason: FailureReason | ChunkFailureReason }

export type JobState = 'queued' | 'running' | 'done'

/** A job as `GET /jobs/{jobId}` shows it: one small read, whatever its size. */
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

/** What every chunk of a job is fetched with: the fields of its request besides the codes. */
export interface JobDownload {
  readonly baseUrl: string
  readonly concurrency: number
  readonly force: boolean
}

/** What is stored of a job when it is accepted: its plan is in the bucket, at `planKey`. */
export interface NewJob extends JobDownload {
  readonly jobId: string
  readonly total: number
  readonly duplicates: number
  readonly chunks: number
  readonly prefix: string
  readonly maxOriginRequests: number
  readonly planKey: string
  /** The plan's length in bytes: no chunk's line reaches past it. */
  readonly planBytes: number
  readonly createdAt: string
}

/** A job as its workers read it: its status, how it is fetched, and how far its chunks are sent. */
export interface JobRecord extends JobStatus, JobDownload {
  readonly planKey: string
  readonly planBytes: number
  readonly maxOriginRequests: number
  /** Chunks sent to the queue, from chunk 0: where a fan-out that stopped resumes. */
  readonly chunksSent: number
  /** When the fan-out last made progress, or null before it began. */
  readonly fanOutAt: string | null
}

/**
 * How one delivery of a chunk ended, counted into its job once: the codes it finished, and the
 * codes the deadline left to the chunk's next part (`rest`, empty when the chunk is complete).
 * Part 0 runs the chunk's codes from the plan; part n + 1 runs the rest of part n.
 */
export interface PartOutcome {
  readonly chunk: number
  readonly part: number
  readonly counter: Record<DownloadStatus, number>
  readonly unchanged: number
  readonly bytes: number
  /** Every code of the part that did not end `ok`. */
  readonly failures: readonly JobFailure[]
  readonly rest: readonly string[]
}

/**
 * What became of recording a part: counted now, counted before (the first outcome stands), not of
 * the job's plan, or held by a worker (for a dead-letter count, which waits for it).
 */
export type PartRecording = 'counted' | 'counted before' | 'not in plan' | 'leased'

/** A job's id: a UUID, as the planner makes them. */
export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** Whether every chunk of the job is counted: its report can be written and the job closed. */
export const allCounted = (job: JobStatus): boolean => job.chunksDone >= job.chunks
