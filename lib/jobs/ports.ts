import type { JobMessage } from './messages.ts'
import type { JobFailure, JobRecord, JobStatus, NewJob, PartOutcome, PartRecording } from './job.ts'

/** Where jobs and their chunks' outcomes are kept. */
export interface JobStore {
  /** Stores a new job; false, changing nothing, when a job of that id is stored already. */
  create(job: NewJob): Promise<boolean>
  /** The job's status, or undefined when there is none (or it has expired): one small read. */
  get(jobId: string): Promise<JobStatus | undefined>
  /** The job as its workers need it, or undefined when there is none. */
  record(jobId: string): Promise<JobRecord | undefined>
  /** The most recently created jobs, newest first. */
  recent(limit: number): Promise<JobStatus[]>
  /** Notes that the job's chunks up to `chunksSent` are sent (never moving back), and that its fan-out is alive at `at`. */
  fannedOut(jobId: string, chunksSent: number, at: string): Promise<void>
  /** The recorded outcome of a chunk's part, or undefined when none is. */
  partOf(jobId: string, chunk: number, part: number): Promise<PartOutcome | undefined>
  /**
   * Records a part's outcome and counts it into its job, at once and exactly once: the first
   * outcome recorded for a part is the one counted, whatever is recorded for it later (a
   * redelivered or duplicate message); a chunk the job's plan does not have changes nothing.
   * The job's chunks done grow when a part leaves no rest. With `unleasedAt`, a part a worker
   * holds at that time is not recorded ('leased'). Throws JobNotFound for an unknown job.
   */
  recordPart(jobId: string, outcome: PartOutcome, at: string, options?: RecordOptions): Promise<PartRecording>
  /** Notes that a worker runs the part until `until`: a dead-letter count of it waits until then. */
  leasePart(jobId: string, chunk: number, part: number, until: string): Promise<void>
  /** Every failure recorded for the job's chunks, a page at a time, in chunk order. */
  failuresOf(jobId: string): AsyncIterable<readonly JobFailure[]>
  /** Marks a job done with its report, once, and sets it to expire some days from now; returns the job as it stands after. */
  finish(jobId: string, reportKey: string, at: string): Promise<JobStatus>
}

/** How a part is recorded: `unleasedAt`, only if no worker holds it then (its lease ended before). */
export interface RecordOptions {
  readonly unleasedAt?: string
}

/** The queue the jobs' messages go through: chunks to the workers, and the jobs' own next steps. */
export interface JobQueue {
  /** Sends the messages, `delaySeconds` from now; throws when any could not be sent, after retries. */
  send(messages: readonly JobMessage[], delaySeconds?: number): Promise<void>
}

/**
 * Objects in the bucket: the manifests the planner reads, the plans it stores (a JSON line per
 * chunk, each read alone by a ranged read) and the reports written when jobs finish. An object
 * written appears whole or not at all.
 */
export interface JobObjects {
  /**
   * The object's text, or undefined when there is none; throws ObjectTooLarge past `maxBytes`, and
   * ObjectAccessDenied when the store refuses it (which is also how S3 answers a missing key to a
   * role it does not let list the bucket there).
   */
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
