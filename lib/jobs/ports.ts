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

/**
 * Objects in the bucket: the manifests the planner reads, the plans it stores (a JSON line per
 * chunk, each read alone by a ranged read) and the reports written when jobs finish. An object
 * written appears whole or not at all.
 */
export interface JobObjects {
  /** The object's text, or undefined when there is none; throws ObjectTooLarge past `maxBytes`. */
  readText(key: string, maxBytes: number): Promise<string | undefined>
  /**
   * The UTF-8 text of the object's bytes from `start` up to, not including, `end`; undefined when
   * there is no object. Throws ObjectTooShort when the object ends before `end` (a range that is
   * not there is no line of a plan), and a RangeError unless 0 <= start < end, both integers.
   */
  readRange(key: string, start: number, end: number): Promise<string | undefined>
  writeText(key: string, text: string, contentType: string): Promise<void>
  /**
   * Writes the object from `lines`, each followed by '\n', read as it is written: memory holds a
   * part or two (5 MiB each), not the object. No lines make an empty object. On any failure,
   * the lines' own included, nothing is stored and what was uploaded is discarded.
   */
  writeLines(key: string, lines: AsyncIterable<string>, contentType: string): Promise<{ bytes: number }>
}
