import * as z from 'zod/mini'
import { ValidationError } from '../errors.ts'

/**
 * A part of a chunk to run: part 0 is the chunk's line of the plan (bytes `start` to `end`),
 * part n + 1 the codes part n left to it. A message carries no codes: whatever it says, a worker
 * runs only what the plan and the recorded parts hold.
 */
export interface ChunkMessage {
  readonly kind: 'chunk'
  readonly jobId: string
  readonly chunk: number
  readonly part: number
  readonly start: number
  readonly end: number
}

/**
 * Sends the job's chunks from where its fan-out stopped. A `check` is the watch every fan-out
 * sets before it begins, delayed: it takes the fan-out up only when no run has made progress
 * since, and otherwise sets itself again, until every chunk is sent.
 */
export interface FanOutMessage {
  readonly kind: 'fanOut'
  readonly jobId: string
  readonly check: boolean
}

/** Writes the report of a job whose every chunk is counted, and closes it. */
export interface FinishMessage {
  readonly kind: 'finish'
  readonly jobId: string
}

/** Every message of the jobs queue. */
export type JobMessage = ChunkMessage | FanOutMessage | FinishMessage

const index = z.int().check(z.minimum(0))
const messageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('chunk'), jobId: z.string(), chunk: index, part: index, start: index, end: index }),
  z.object({ kind: z.literal('fanOut'), jobId: z.string(), check: z.boolean() }),
  z.object({ kind: z.literal('finish'), jobId: z.string() }),
])

/** A message body as a job message; anything else is refused with ValidationError (it can only be a poison message). */
export function parseJobMessage(body: string): JobMessage {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (error) {
    throw new ValidationError('job message is not JSON', { cause: error })
  }
  const parsed = messageSchema.safeParse(json)
  if (!parsed.success) throw new ValidationError(`not a job message: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`.trim())
  return parsed.data
}

/** The message of a chunk's part 0, at its line of the plan. */
export function chunkMessage(jobId: string, chunk: number, offsets: readonly number[]): ChunkMessage {
  return { kind: 'chunk', jobId, chunk, part: 0, start: offsets[chunk] ?? 0, end: offsets[chunk + 1] ?? 0 }
}
