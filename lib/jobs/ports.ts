import type { ChunkMessage } from './chunks.ts'
import type { ChunkOutcome, JobFailure, JobStatus, NewJob } from './job.ts'

/** Where jobs and their chunks' outcomes are kept. */
export interface JobStore {
  /** Stores a new job; false, changing nothing, when a job of that id is stored already. */
  create(job: NewJob): Promise<boolean>
  /** The job, or undefined when there is none (or it has expired). */
  get(jobId: string): Promise<JobStatus | undefined>
  /** The most recently created jobs, newest first. */
  recent(limit: number): Promise<JobStatus[]>
  /** Whether an outcome of the chunk is recorded already (it is then counted, or its count completes when recorded again). */
  chunkRecorded(jobId: string, chunk: number): Promise<boolean>
  /** Marks a job running from now, once; later calls change nothing. Throws JobNotFound for an unknown job. */
  markRunning(jobId: string, at: string): Promise<void>
  /**
   * Records a chunk's outcome and counts it into its job, exactly once: the first outcome
   * recorded for a chunk is the one counted, whatever is recorded for it later (a redelivered or
   * duplicate message). Returns the job as it stands after; throws JobNotFound for an unknown job.
   */
  recordChunk(jobId: string, outcome: ChunkOutcome, at: string): Promise<JobStatus>
  /** Every failure recorded for the job's chunks, a page at a time, in chunk order. */
  failuresOf(jobId: string): AsyncIterable<readonly JobFailure[]>
  /** Marks a job done with its report, once, and sets it to expire some days from now; returns the job as it stands after. */
  finish(jobId: string, reportKey: string, at: string): Promise<JobStatus>
}

/** What could not be sent, after retries, and why. */
export interface Unsent {
  readonly messages: readonly ChunkMessage[]
  readonly reason?: string
}

/** The queue the chunks of jobs go through to the workers. */
export interface ChunkQueue {
  /** Sends the messages; resolves with those that could not be sent, after retries. */
  send(messages: readonly ChunkMessage[]): Promise<Unsent>
}

/** Objects in the bucket the planner reads manifests from and the workers write reports to. */
export interface JobObjects {
  /**
   * The object's text, or undefined when there is none; throws ObjectTooLarge past `maxBytes`, and
   * ObjectAccessDenied when the store refuses it (which is also how S3 answers a missing key to a
   * role it does not let list the bucket there).
   */
  readText(key: string, maxBytes: number): Promise<string | undefined>
  writeText(key: string, text: string, contentType: string): Promise<void>
}
