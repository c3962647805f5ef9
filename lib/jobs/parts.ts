import type { CodeFinished } from '../download/report.ts'
import type { JobFailure, JobRecord, PartOutcome } from './job.ts'
import type { ChunkMessage } from './messages.ts'
import { chunkCodesOf } from './plan.ts'
import { PartLeased } from './errors.ts'
import { followUp, type JobSteps, type StepResult } from './finish.ts'
import type { JobObjects, JobStore } from './ports.ts'

// A chunk's line of the plan: at most 500 codes of at most 1 024 bytes, in JSON.
const MAX_LINE_BYTES = 1024 * 1024

/**
 * The codes a chunk message's part runs, read from what is stored, never from the message: part
 * 0's from the chunk's line of the plan, part n + 1's from what part n left. Undefined when the
 * message names no part of the job's plan (a chunk past its end, a range that is not the chunk's
 * line, a part whose previous part left nothing).
 */
export async function codesOfPart(job: JobRecord, message: ChunkMessage, ports: { readonly store: JobStore; readonly objects: JobObjects }): Promise<readonly string[] | undefined> {
  const { chunk, part, start, end } = message
  if (chunk >= job.chunks) return undefined
  if (part > 0) {
    const previous = await ports.store.partOf(job.jobId, chunk, part - 1)
    return previous === undefined || previous.rest.length === 0 ? undefined : previous.rest
  }
  if (start >= end || end > job.planBytes || end - start > MAX_LINE_BYTES) return undefined
  const line = await ports.objects.readRange(job.planKey, start, end)
  return line === undefined ? undefined : chunkCodesOf(line, chunk)
}

/**
 * A part's outcome from what its run reported for each code: every code that ended counted as it
 * ended (`ok` whenever its object was stored), every code the deadline cut, or never reached,
 * left to the next part.
 */
export function partOutcomeOf(message: ChunkMessage, codes: readonly string[], finished: readonly CodeFinished[]): PartOutcome {
  const counter = { ok: 0, not_found: 0, error: 0 }
  let unchanged = 0
  let bytes = 0
  const failures: JobFailure[] = []
  const ended = new Set<string>()
  for (const event of finished) {
    if (event.status !== 'ok' && event.reason === 'deadline') continue
    if (ended.has(event.code)) continue
    ended.add(event.code)
    counter[event.status] += 1
    if (event.status === 'ok') {
      bytes += event.bytes
      if (event.unchanged) unchanged += 1
    } else {
      const { ms, ...failure } = event
      void ms
      failures.push(failure)
    }
  }
  return { chunk: message.chunk, part: message.part, counter, unchanged, bytes, failures, rest: codes.filter((code) => !ended.has(code)) }
}

/** How a part's codes come to an outcome: run through the engine, or judged from the bucket. */
export type PartRunner = (job: JobRecord, codes: readonly string[]) => Promise<PartOutcome>

/**
 * Who counts a part: a worker, which holds it until `leaseUntil` while it runs it, or the
 * dead-letter count, which counts it only once no worker holds it.
 */
export type PartCounter = { readonly leaseUntil: () => string } | { readonly deadLetter: true }

/**
 * Counts one part of a chunk into its job, exactly once, whoever delivers it (a worker, the
 * dead-letter count): a part counted before is not run again, but what follows it is sent again;
 * a message that names no part of the job's plan changes nothing and is dropped. A worker holds
 * the part before it looks whether it is counted, and the dead-letter count records only a part
 * no worker holds, so a dead-letter copy never counts codes a running worker is storing.
 */
export async function countPart(message: ChunkMessage, deps: JobSteps, counter: PartCounter, run: PartRunner): Promise<StepResult> {
  const { jobId, chunk, part } = message
  const job = await deps.store.record(jobId)
  if (job === undefined) return { kind: 'dropped', reason: `no job ${jobId}` }
  const codes = await codesOfPart(job, message, deps)
  if (codes === undefined) return notInPlan(message)
  if ('leaseUntil' in counter) await deps.store.leasePart(jobId, chunk, part, counter.leaseUntil())
  const before = await deps.store.partOf(jobId, chunk, part)
  if (before !== undefined) {
    await followUp(message, before, deps)
    return { kind: 'done', jobId, what: `chunk ${chunk} part ${part} counted before` }
  }
  let outcome: PartOutcome
  try {
    outcome = await run(job, codes)
  } catch (error) {
    // A worker that gives the part up lets a dead-letter count of it go on at once.
    if ('leaseUntil' in counter) await deps.store.leasePart(jobId, chunk, part, deps.now().toISOString())
    throw error
  }
  const at = deps.now().toISOString()
  const recording = await deps.store.recordPart(jobId, outcome, at, 'deadLetter' in counter ? { unleasedAt: at } : {})
  if (recording === 'not in plan') return notInPlan(message)
  if (recording === 'leased') throw new PartLeased(`chunk ${chunk} part ${part} of job ${jobId} is held by a worker: counted once it is done`)
  // The first outcome recorded stands: a copy of the message may have been counted meanwhile.
  const counted = recording === 'counted' ? outcome : await deps.store.partOf(jobId, chunk, part)
  if (counted !== undefined) await followUp(message, counted, deps)
  const left = counted?.rest.length ?? 0
  return { kind: 'done', jobId, what: `chunk ${chunk} part ${part} ${recording}${left > 0 ? `, ${left} codes cut short sent on` : ''}` }
}

const notInPlan = ({ jobId, chunk, part }: ChunkMessage): StepResult => ({ kind: 'dropped', reason: `chunk ${chunk} part ${part} is not in the plan of job ${jobId}` })
