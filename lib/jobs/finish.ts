import { allCounted, type JobFailure, type JobStatus, type PartOutcome } from './job.ts'
import type { ChunkMessage } from './messages.ts'
import type { JobObjects, JobQueue, JobStore } from './ports.ts'

/** What every step of a job after its planning takes: its store, its queue, the bucket and a clock. */
export interface JobSteps {
  readonly store: JobStore
  readonly objects: JobObjects
  readonly queue: JobQueue
  /** Where reports go in the bucket. */
  readonly reportPrefix: string
  readonly now: () => Date
  /** How long a fan-out may go without progress before another run takes it up: its check's delay. */
  readonly fanOutCheckSeconds: number
}

/** What became of a message: its work done (or found done before), or dropped as belonging to no job or plan. */
export type StepResult =
  | { readonly kind: 'done'; readonly jobId: string; readonly what: string }
  | { readonly kind: 'dropped'; readonly reason: string }

const CSV_HEADER = 'code,status,reason,attempts,httpStatus,message'

/**
 * What follows a recorded part, sent again on every delivery that finds it recorded (the message
 * that sent it may have died before): the chunk's next part for the codes it left, or, once
 * every chunk of the job is counted, the job's finish. Duplicates are harmless: each is counted
 * or done once.
 */
export async function followUp(message: ChunkMessage, recorded: PartOutcome, deps: JobSteps): Promise<JobStatus | undefined> {
  if (recorded.rest.length > 0) {
    await deps.queue.send([{ ...message, part: recorded.part + 1 }])
    return undefined
  }
  const job = await deps.store.get(message.jobId)
  if (job !== undefined && job.state !== 'done' && allCounted(job)) await deps.queue.send([{ kind: 'finish', jobId: job.jobId }])
  return job
}

/**
 * Closes a job whose every chunk is counted: streams the report of its failed codes to the
 * bucket and marks it done. Safe to run more than once (a redelivered finish): the report is the
 * same, and the job is marked done once. A job not yet complete is left as it is.
 */
export async function finishJob(jobId: string, deps: JobSteps): Promise<StepResult> {
  const job = await deps.store.get(jobId)
  if (job === undefined) return { kind: 'dropped', reason: `no job ${jobId} to finish` }
  if (job.state === 'done') return { kind: 'done', jobId, what: 'finished before' }
  if (!allCounted(job)) return { kind: 'dropped', reason: `job ${jobId} has ${job.chunksDone} of ${job.chunks} chunks counted: not finished` }
  const reportKey = `${deps.reportPrefix}${jobId}.csv`
  await deps.objects.writeLines(reportKey, reportLines(deps.store.failuresOf(jobId)), 'text/csv; charset=utf-8')
  await deps.store.finish(jobId, reportKey, deps.now().toISOString())
  return { kind: 'done', jobId, what: 'finished' }
}

async function* reportLines(pages: AsyncIterable<readonly JobFailure[]>): AsyncIterable<string> {
  yield CSV_HEADER
  for await (const page of pages) for (const failure of page) yield csvLine(failure)
}

/**
 * A part whose codes will never run: every one of `codes` an `error` (`dead_letter`) for `why`,
 * beside the `stored` codes some delivery stored, which count `ok`.
 */
export function deadLetterPart(message: ChunkMessage, codes: readonly string[], why: string, stored = 0): PartOutcome {
  return {
    chunk: message.chunk,
    part: message.part,
    counter: { ok: stored, not_found: 0, error: codes.length },
    unchanged: 0,
    bytes: 0,
    failures: codes.map((code) => ({ code, status: 'error', reason: 'dead_letter', attempts: 0, message: why })),
    rest: [],
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
