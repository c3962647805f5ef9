import * as z from 'zod/mini'
import { ValidationError } from '../errors.ts'
import { objectKey } from '../download/keys.ts'
import type { DownloadPlan } from '../download/request.ts'

/**
 * One message of a job: a chunk of its codes with everything a worker needs to fetch them, so a
 * worker never reads the job first. Its download fields are checked again by the worker, against
 * the same rules as any request.
 */
export interface ChunkMessage {
  readonly jobId: string
  /** The chunk's number in its job, from 0. */
  readonly chunk: number
  readonly codes: readonly string[]
  readonly baseUrl: string
  readonly concurrency: number
  readonly prefix: string
  readonly force: boolean
}

/**
 * The job's codes cut into messages of at most `chunkSize` codes, in the order of their keys: each
 * chunk is then one narrow range of keys, which one listing of the bucket covers (the look-up
 * of stored copies), rather than a spread that would need a look-up per key.
 */
export function chunkMessages(jobId: string, plan: DownloadPlan, chunkSize: number): ChunkMessage[] {
  const keyed = plan.codes.map((code) => ({ code, key: objectKey(plan.prefix, code) }))
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const codes = keyed.map(({ code }) => code)
  const messages: ChunkMessage[] = []
  for (let start = 0; start < codes.length; start += chunkSize) {
    messages.push({
      jobId,
      chunk: messages.length,
      codes: codes.slice(start, start + chunkSize),
      baseUrl: plan.baseUrl,
      concurrency: plan.concurrency,
      prefix: plan.prefix,
      force: plan.force,
    })
  }
  return messages
}

const chunkSchema = z.object({
  jobId: z.string(),
  chunk: z.int().check(z.minimum(0)),
  codes: z.array(z.string()),
  baseUrl: z.string(),
  concurrency: z.int(),
  prefix: z.string(),
  force: z.boolean(),
})

/** A message body as a chunk; anything else is refused with ValidationError (it can only be a poison message). */
export function parseChunkMessage(body: string): ChunkMessage {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (error) {
    throw new ValidationError('chunk message is not JSON', { cause: error })
  }
  const parsed = chunkSchema.safeParse(json)
  if (!parsed.success) throw new ValidationError(`chunk message is not a chunk: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim())
  return parsed.data
}
