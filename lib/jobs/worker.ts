import { runDownloadRequest, type DownloadDeps } from '../download/downloadRequest.ts'
import type { RunControls } from '../download/engine.ts'
import { ValidationError } from '../errors.ts'
import type { DownloadObserver, DownloadReport } from '../download/report.ts'
import { messageOf } from '../download/failures.ts'
import { parseChunkMessage, type ChunkMessage } from './chunks.ts'
import { ChunkIncomplete, JobNotFound } from './errors.ts'
import { countChunk, deadLetterOutcome, type Finishing } from './finish.ts'
import type { JobFailure, JobStatus } from './job.ts'

export interface WorkerDeps extends Finishing {
  /** The download engine and the rules every chunk is held to, as any download request is. */
  readonly download: DownloadDeps
}

/** What became of a message: its chunk counted into its job, or dropped as belonging to no job. */
export type ChunkCount =
  | { readonly kind: 'counted'; readonly job: JobStatus; readonly chunk: number }
  | { readonly kind: 'dropped'; readonly reason: string }

/**
 * Runs one chunk of a job through the download engine and counts its outcome into the job,
 * exactly once: a chunk counted before (a duplicate or redelivered message) changes nothing. The
 * worker that counts a job's last chunk writes its report and marks it done. A message that is
 * not a chunk throws (it goes to the dead-letter queue); a chunk of no job is dropped, unrun.
 */
export async function runChunk(body: string, deps: WorkerDeps, controls: RunControls = {}): Promise<ChunkCount> {
  const message = parseChunkMessage(body)
  try {
    await deps.store.markRunning(message.jobId, deps.now().toISOString())
  } catch (error) {
    if (error instanceof JobNotFound) return { kind: 'dropped', reason: error.message }
    throw error
  }
  // A chunk whose outcome is recorded (a copy, or a delivery after a worker died past its first
  // write) is not run again; recording it again counts the first outcome, if that count was lost.
  if (await deps.store.chunkRecorded(message.jobId, message.chunk)) {
    return { kind: 'counted', job: await countChunk(message.jobId, deadLetterOutcome(message, 'recorded before'), deps), chunk: message.chunk }
  }
  const failures: JobFailure[] = []
  const observer: DownloadObserver = {
    codeFinished(event) {
      if (event.status !== 'ok') {
        const { ms, ...failure } = event
        void ms
        failures.push(failure)
      }
      controls.observer?.codeFinished(event)
    },
    progress(done, total) {
      controls.observer?.progress(done, total)
    },
  }
  const { codes, baseUrl, concurrency, prefix, force } = message
  let report: DownloadReport
  try {
    report = await runDownloadRequest({ codes, baseUrl, concurrency, prefix, force }, deps.download, { ...controls, observer })
  } catch (error) {
    // A chunk the rules refuse (its origin no longer allowed, or resolving to a private address)
    // is refused the same way on every delivery: counted at once, not left to the dead-letter queue.
    if (!(error instanceof ValidationError)) throw error
    const job = await countChunk(message.jobId, deadLetterOutcome(message, `the chunk was refused: ${error.message}`), deps)
    return { kind: 'counted', job, chunk: message.chunk }
  }
  const cut = failures.filter((failure) => failure.reason === 'deadline').length
  if (cut > 0) throw new ChunkIncomplete(`chunk ${message.chunk} of job ${message.jobId}: ${cut} codes cut short by the deadline`)
  const { counter, unchanged, bytes } = report
  const job = await countChunk(message.jobId, { chunk: message.chunk, counter, unchanged, bytes, failures }, deps)
  return { kind: 'counted', job, chunk: message.chunk }
}

/**
 * Counts a chunk that reached the dead-letter queue: every code `error` (`dead_letter`), unless
 * the chunk was counted before it got there. A message that is not a chunk, or a chunk of no job,
 * is dropped: there is nothing to count it into.
 */
export async function countDeadLetter(body: string, deps: Finishing): Promise<ChunkCount> {
  let message: ChunkMessage
  try {
    message = parseChunkMessage(body)
  } catch (error) {
    return { kind: 'dropped', reason: messageOf(error) }
  }
  const why = 'the chunk kept failing and went to the dead-letter queue'
  try {
    return { kind: 'counted', job: await countChunk(message.jobId, deadLetterOutcome(message, why), deps), chunk: message.chunk }
  } catch (error) {
    if (error instanceof JobNotFound) return { kind: 'dropped', reason: error.message }
    throw error
  }
}
