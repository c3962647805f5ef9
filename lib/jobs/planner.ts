import { createHash, randomUUID } from 'node:crypto'
import { validateDownloadRequest } from '../download/downloadRequest.ts'
import type { RequestRules } from '../download/request.ts'
import type { ResolveHost } from '../security/originPolicy.ts'
import { sendChunks, watchFanOut, type RemainingMs } from './fanOut.ts'
import type { JobSteps } from './finish.ts'
import type { JobRecord, JobState, NewJob } from './job.ts'
import { requestWithManifestCodes } from './manifest.ts'
import { JobNotFound } from './errors.ts'
import { planChunks, planKeys } from './plan.ts'

/** What a job request is held to, besides what any download request is. */
export interface JobRules {
  /** The download rules, with the most codes a job may hold as `maxCodes`. */
  readonly request: RequestRules
  /** Where manifests must be in the bucket. */
  readonly manifestPrefix: string
  readonly maxManifestBytes: number
  /** Codes per chunk, one chunk per message. */
  readonly chunkSize: number
  /** Workers that may run at once: the queue's maximum concurrency. */
  readonly workerConcurrency: number
}

export interface PlannerDeps extends JobSteps {
  readonly rules: JobRules
  readonly resolveHost: ResolveHost
  /** Where plans go in the bucket. */
  readonly planPrefix: string
}

/** The answer to an accepted job: `202` over HTTP. */
export interface JobAccepted {
  readonly jobId: string
  readonly state: JobState
  readonly total: number
  readonly chunks: number
  /** The most requests the origin can ever see from this job at once: workers × concurrency. */
  readonly maxOriginRequests: number
  readonly statusUrl: string
}

/**
 * Validates a job request (the fields of a download request, or a manifest in the bucket instead
 * of `codes`), stores its plan in the bucket, then the job, and sends its chunks to the queue.
 * Nothing of a job is lost to a planner that dies: the plan is stored before the job, a check on
 * the fan-out is queued before the job is stored, and the fan-out notes how far it got.
 */
export async function startJob(
  input: unknown,
  deps: PlannerDeps,
  statusUrlOf: (jobId: string) => string,
  requestId?: string,
  remainingMs?: RemainingMs,
): Promise<JobAccepted> {
  const { rules } = deps
  // One request, one job: a request retried with its id (a schedule's event, an asynchronous
  // invocation Lambda tries again) finds its job as it was planned, whatever its manifest holds now.
  const jobId = requestId === undefined ? randomUUID() : jobIdOf(requestId)
  const validate = async () => validateDownloadRequest(await requestWithManifestCodes(input, deps), rules.request, deps.resolveHost)
  // A request of codes is checked first, so a bad one is refused before anything is read; a
  // manifest is read only for a job not planned yet.
  const checked = hasManifest(input) ? undefined : await validate()
  if (requestId !== undefined) {
    const planned = await deps.store.record(jobId)
    if (planned !== undefined) return acceptedOf(planned, statusUrlOf)
  }
  const plan = checked ?? (await validate())
  const { lines, offsets } = planChunks(plan, rules.chunkSize)
  // A key of the plan's own: a planner of the same job id running at once never overwrites it.
  const keys = planKeys(deps.planPrefix, jobId, randomUUID())
  await deps.objects.writeLines(keys.plan, toAsync(lines), 'application/x-ndjson')
  await deps.objects.writeText(keys.offsets, JSON.stringify(offsets), 'application/json')
  await watchFanOut(jobId, deps)
  const job: NewJob = {
    jobId,
    total: plan.codes.length,
    duplicates: plan.duplicates,
    chunks: lines.length,
    prefix: plan.prefix,
    baseUrl: plan.baseUrl,
    concurrency: plan.concurrency,
    force: plan.force,
    maxOriginRequests: Math.min(rules.workerConcurrency, lines.length) * plan.concurrency,
    planKey: keys.plan,
    planBytes: offsets.at(-1) ?? 0,
    createdAt: deps.now().toISOString(),
  }
  await deps.store.create(job)
  const stored = await deps.store.record(jobId)
  if (stored === undefined) throw new JobNotFound(`job ${jobId} was stored and is gone`)
  // A job of that id stored first (a retry racing this one) is the job: its plan, not this one.
  if (stored.planKey === keys.plan) await sendChunks(stored, offsets, deps, remainingMs)
  return acceptedOf(stored, statusUrlOf)
}

const hasManifest = (input: unknown): boolean => typeof input === 'object' && input !== null && 'manifest' in input

function acceptedOf(job: JobRecord, statusUrlOf: (jobId: string) => string): JobAccepted {
  return { jobId: job.jobId, state: job.state, total: job.total, chunks: job.chunks, maxOriginRequests: job.maxOriginRequests, statusUrl: statusUrlOf(job.jobId) }
}

async function* toAsync(lines: readonly string[]): AsyncIterable<string> {
  yield* lines
}

/** A UUID (version 5 layout) made from a request's id: the same id, the same job. */
function jobIdOf(requestId: string): string {
  const hex = createHash('sha256').update(`imgpull-job:${requestId}`).digest('hex')
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
