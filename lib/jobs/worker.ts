import { runDownloadRequest, type DownloadDeps } from '../download/downloadRequest.ts'
import type { RunControls } from '../download/engine.ts'
import type { CodeFinished, DownloadObserver } from '../download/report.ts'
import { ValidationError } from '../errors.ts'
import { runFanOut } from './fanOut.ts'
import { deadLetterPart, finishJob, type JobSteps, type StepResult } from './finish.ts'
import { ChunkIncomplete } from './errors.ts'
import { parseJobMessage, type ChunkMessage } from './messages.ts'
import { countPart, partOutcomeOf } from './parts.ts'

// Lambda's longest timeout.
const MAX_WORKER_MS = 15 * 60_000

export interface WorkerDeps extends JobSteps {
  /** The download engine and the rules every chunk is held to, as any download request is. */
  readonly download: DownloadDeps
}

/**
 * One message of the jobs queue: a chunk's part run and counted, a fan-out taken up, or a job
 * finished. A message that is not a job message throws (it goes to the dead-letter queue).
 */
export async function runJobMessage(body: string, deps: WorkerDeps, controls: RunControls = {}): Promise<StepResult> {
  const message = parseJobMessage(body)
  switch (message.kind) {
    case 'chunk':
      return runChunk(message, deps, controls)
    case 'fanOut':
      return runFanOut(message, deps, controls.remainingMs)
    case 'finish':
      return finishJob(message.jobId, deps)
  }
}

/**
 * Runs one part of a chunk through the download engine and counts its outcome into its job,
 * exactly once: a part counted before (a duplicate or redelivered message) is not run again, but
 * what follows it is sent again. The deadline cuts a part short rather than failing it: the codes
 * it finished are counted and the rest go on as the chunk's next part.
 */
export function runChunk(message: ChunkMessage, deps: WorkerDeps, controls: RunControls = {}): Promise<StepResult> {
  // Held as long as this invocation may run; without a deadline, as long as any worker may.
  const leaseUntil = () => new Date(deps.now().getTime() + (controls.remainingMs?.() ?? MAX_WORKER_MS)).toISOString()
  return countPart(message, deps, { leaseUntil }, async (job, codes) => {
    const finished: CodeFinished[] = []
    const observer: DownloadObserver = {
      codeFinished(event) {
        finished.push(event)
        controls.observer?.codeFinished(event)
      },
      progress(done, total) {
        controls.observer?.progress(done, total)
      },
    }
    try {
      await runDownloadRequest({ codes, baseUrl: job.baseUrl, concurrency: job.concurrency, prefix: job.prefix, force: job.force }, deps.download, { ...controls, observer })
    } catch (error) {
      // A chunk the rules refuse (its origin no longer allowed, or resolving to a private address)
      // is refused the same way on every delivery: counted at once, not left to the dead-letter queue.
      if (!(error instanceof ValidationError)) throw error
      return deadLetterPart(message, codes, `the chunk was refused: ${error.message}`)
    }
    const outcome = partOutcomeOf(message, codes, finished)
    // A part the deadline cut before it finished a single code makes no progress: it fails, to be
    // delivered again, and after the queue's last try dead-lettered, rather than handed on for ever.
    if (outcome.rest.length === codes.length) throw new ChunkIncomplete(`chunk ${message.chunk} part ${message.part} of job ${message.jobId}: every code cut short by the deadline`)
    return outcome
  })
}
