import { createHash, randomUUID } from 'node:crypto'
import { validateDownloadRequest } from '../download/downloadRequest.ts'
import type { RequestRules } from '../download/request.ts'
import type { ResolveHost } from '../security/originPolicy.ts'
import { chunkMessages } from './chunks.ts'
import { countChunk, deadLetterOutcome, type Finishing } from './finish.ts'
import { requestWithManifestCodes } from './manifest.ts'
import type { ChunkQueue, JobObjects } from './ports.ts'

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

export interface PlannerDeps extends Finishing {
  readonly rules: JobRules
  readonly queue: ChunkQueue
  readonly objects: JobObjects
  readonly resolveHost: ResolveHost
}

/** The answer to an accepted job: `202` over HTTP. */
export interface JobAccepted {
  readonly jobId: string
  readonly state: 'queued'
  readonly total: number
  readonly chunks: number
  /** The most requests the origin can ever see from this job at once: workers × concurrency. */
  readonly maxOriginRequests: number
  readonly statusUrl: string
}

/**
 * Validates a job request (the fields of a download request, or a manifest in the bucket instead
 * of `codes`), stores the job and sends its chunks to the queue. A chunk that cannot be queued
 * is counted as `error` (`dead_letter`) at once, so the job still finishes with every code counted.
 */
export async function startJob(
  input: unknown,
  deps: PlannerDeps,
  statusUrlOf: (jobId: string) => string,
  requestId?: string,
): Promise<JobAccepted> {
  const { rules } = deps
  const request = await requestWithManifestCodes(input, deps)
  const plan = await validateDownloadRequest(request, rules.request, deps.resolveHost)
  // One request, one job: a request retried with its id (a schedule's event, which Lambda delivers
  // again when an asynchronous invocation fails) finds its job and queues its chunks again, which
  // counts nothing twice, rather than starting a second job beside a half-queued first.
  const jobId = requestId === undefined ? randomUUID() : jobIdOf(requestId)
  const messages = chunkMessages(jobId, plan, rules.chunkSize)
  const maxOriginRequests = Math.min(rules.workerConcurrency, messages.length) * plan.concurrency
  const at = deps.now().toISOString()
  await deps.store.create({
    jobId,
    total: plan.codes.length,
    duplicates: plan.duplicates,
    chunks: messages.length,
    prefix: plan.prefix,
    maxOriginRequests,
    createdAt: at,
  })
  const unsent = await deps.queue.send(messages)
  const why = `the chunk could not be queued${unsent.reason === undefined ? '' : `: ${unsent.reason}`}`
  for (const message of unsent.messages) await countChunk(jobId, deadLetterOutcome(message, why), deps)
  return { jobId, state: 'queued', total: plan.codes.length, chunks: messages.length, maxOriginRequests, statusUrl: statusUrlOf(jobId) }
}

/** A UUID (version 5 layout) made from a request's id: the same id, the same job. */
function jobIdOf(requestId: string): string {
  const hex = createHash('sha256').update(`imgpull-job:${requestId}`).digest('hex')
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
