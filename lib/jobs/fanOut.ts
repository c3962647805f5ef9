import type { JobSteps, StepResult } from './finish.ts'
import type { JobRecord } from './job.ts'
import { chunkMessage, type FanOutMessage } from './messages.ts'
import { PlanMissing } from './errors.ts'
import { offsetsKeyOf, parseOffsets } from './plan.ts'

// Chunks sent between two checkpoints: a run that dies sends at most this many again.
const CHECKPOINT_CHUNKS = 100
// A run stops with this much time left and hands the rest to a fresh run.
const FAN_OUT_RESERVE_MS = 5_000
// The offsets of a plan of 10 000 chunks are about 80 KB.
const MAX_OFFSETS_BYTES = 1024 * 1024

/** The time left to a run; unbounded when not told. */
export type RemainingMs = () => number

/**
 * Sends the job's chunks from `job.chunksSent` on, noting after every few how far it got, so that
 * a run that dies loses nothing: the check set before it takes the rest up. Out of time, it hands
 * the rest to a fresh run at once. Answers the chunks sent when it stopped: all of them, or those
 * before the chunk it handed on from.
 */
export async function sendChunks(job: JobRecord, offsets: readonly number[], deps: JobSteps, remainingMs: RemainingMs = () => Infinity): Promise<number> {
  for (let from = job.chunksSent; from < job.chunks; from += CHECKPOINT_CHUNKS) {
    if (remainingMs() < FAN_OUT_RESERVE_MS) {
      await deps.queue.send([{ kind: 'fanOut', jobId: job.jobId, check: false }])
      return from
    }
    const to = Math.min(job.chunks, from + CHECKPOINT_CHUNKS)
    await deps.queue.send(Array.from({ length: to - from }, (_, i) => chunkMessage(job.jobId, from + i, offsets)))
    await deps.store.fannedOut(job.jobId, to, deps.now().toISOString())
  }
  return job.chunks
}

/** The check a fan-out sets before it begins: delivered after the time a live fan-out never goes without progress. */
export async function watchFanOut(jobId: string, deps: JobSteps): Promise<void> {
  await deps.queue.send([{ kind: 'fanOut', jobId, check: true }], deps.fanOutCheckSeconds)
}

/**
 * A fan-out message: a check whose fan-out is alive sets itself again; anything else takes the
 * fan-out up where it stopped, having first read its plan and set its own check. A plan that
 * cannot be read sets no check: the message's own deliveries, then the dead-letter queue, try it
 * again, where a check set by each failed try would multiply them without end.
 */
export async function runFanOut(message: FanOutMessage, deps: JobSteps, remainingMs?: RemainingMs): Promise<StepResult> {
  const { jobId } = message
  const job = await deps.store.record(jobId)
  if (job === undefined) return { kind: 'dropped', reason: `no job ${jobId} to fan out (its planner stopped before accepting it)` }
  if (job.chunksSent >= job.chunks) return { kind: 'done', jobId, what: 'every chunk sent before' }
  const sinceProgressMs = job.fanOutAt === null ? Infinity : deps.now().getTime() - Date.parse(job.fanOutAt)
  if (message.check && sinceProgressMs < deps.fanOutCheckSeconds * 1000) {
    await watchFanOut(jobId, deps)
    return { kind: 'done', jobId, what: `fan-out alive at chunk ${job.chunksSent} of ${job.chunks}: checked again later` }
  }
  const offsetsText = await deps.objects.readText(offsetsKeyOf(job.planKey), MAX_OFFSETS_BYTES)
  if (offsetsText === undefined) throw new PlanMissing(`job ${jobId}: the offsets of its plan ${job.planKey} are missing`)
  const offsets = parseOffsets(offsetsText)
  await watchFanOut(jobId, deps)
  const sentTo = await sendChunks(job, offsets, deps, remainingMs)
  return { kind: 'done', jobId, what: sentTo >= job.chunks ? `chunks ${job.chunksSent} to ${job.chunks - 1} sent` : `handed on from chunk ${sentTo}` }
}
