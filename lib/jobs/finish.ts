import type { JobFailure } from './job.ts'
import type { ChunkMessage } from './chunks.ts'
import type { ChunkOutcome, JobStatus } from './job.ts'
import type { JobObjects, JobStore } from './ports.ts'

/** What closing a job needs: its store, the bucket for its report, and a clock. */
export interface Finishing {
  readonly store: JobStore
  readonly objects: JobObjects
  /** Where reports go in the bucket. */
  readonly reportPrefix: string
  readonly now: () => Date
}

const CSV_HEADER = 'code,status,reason,attempts,httpStatus,message'

/**
 * Closes a job whose every chunk is counted: writes the report of its failed codes and marks it
 * done. Safe to run more than once (by a redelivered last chunk): the report is the same, and the
 * job is marked done once.
 */
async function finishIfComplete(job: JobStatus, deps: Finishing): Promise<JobStatus> {
  if (job.state === 'done' || job.chunksDone < job.chunks) return job
  const reportKey = `${deps.reportPrefix}${job.jobId}.csv`
  const lines = [CSV_HEADER]
  for await (const page of deps.store.failuresOf(job.jobId)) for (const failure of page) lines.push(csvLine(failure))
  await deps.objects.writeText(reportKey, `${lines.join('\n')}\n`, 'text/csv; charset=utf-8')
  return deps.store.finish(job.jobId, reportKey, deps.now().toISOString())
}

/**
 * Records a chunk's outcome (the first one recorded stands), counts it into its job once, and
 * closes the job when that was its last chunk: how every way a chunk ends is counted.
 */
export async function countChunk(jobId: string, outcome: ChunkOutcome, deps: Finishing): Promise<JobStatus> {
  const job = await deps.store.recordChunk(jobId, outcome, deps.now().toISOString())
  return finishIfComplete(job, deps)
}

/** A chunk that will never be run, counted: every code an `error` for `why`. */
export function deadLetterOutcome(message: ChunkMessage, why: string): ChunkOutcome {
  return {
    chunk: message.chunk,
    counter: { ok: 0, not_found: 0, error: message.codes.length },
    unchanged: 0,
    bytes: 0,
    failures: message.codes.map((code) => ({ code, status: 'error', reason: 'dead_letter', attempts: 0, message: why })),
  }
}

/** One failure as a CSV row (RFC 4180: fields with commas, quotes or line breaks quoted). */
function csvLine(failure: JobFailure): string {
  return [failure.code, failure.status, failure.reason, String(failure.attempts), failure.httpStatus === undefined ? '' : String(failure.httpStatus), failure.message]
    .map(csvField)
    .join(',')
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}
