import * as z from 'zod/mini'
import { objectKey } from '../download/keys.ts'
import type { DownloadPlan } from '../download/request.ts'

/**
 * A job's plan as it is stored in the bucket: one JSON line per chunk, `{"chunk":n,"codes":[…]}`,
 * and beside it the byte offsets of the lines. The plan is written once, before the job is, and
 * never again: every chunk a worker runs is read back from it (a ranged read of its one line), so a
 * message can only name a chunk of the plan, and a job planned again keeps the plan it had.
 */
export interface StoredPlan {
  /** The plan's lines, without their "\n". */
  readonly lines: readonly string[]
  /** The byte offset of every line, and the plan's length last: chunk n is bytes offsets[n] to offsets[n + 1] (its "\n" included). */
  readonly offsets: readonly number[]
}

/**
 * The job's codes cut into chunks of at most `chunkSize` codes, in the order of their keys: each
 * chunk is then one narrow range of keys, which one listing of the bucket covers (the look-up
 * of stored copies), rather than a spread that would need a look-up per key.
 */
export function planChunks(plan: DownloadPlan, chunkSize: number): StoredPlan {
  const keyed = plan.codes.map((code) => ({ code, key: objectKey(plan.prefix, code) }))
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  const lines: string[] = []
  const offsets = [0]
  let bytes = 0
  for (let start = 0; start < keyed.length; start += chunkSize) {
    const line = JSON.stringify({ chunk: lines.length, codes: keyed.slice(start, start + chunkSize).map(({ code }) => code) })
    lines.push(line)
    bytes += Buffer.byteLength(line) + 1
    offsets.push(bytes)
  }
  return { lines, offsets }
}

/** Where a job's plan and its offsets are kept in the bucket. */
export function planKeys(planPrefix: string, jobId: string, planId: string): { readonly plan: string; readonly offsets: string } {
  const plan = `${planPrefix}${jobId}/${planId}.jsonl`
  return { plan, offsets: offsetsKeyOf(plan) }
}

/** The offsets object beside a plan. */
export const offsetsKeyOf = (planKey: string): string => planKey.replace(/\.jsonl$/, '.offsets.json')

const lineSchema = z.object({ chunk: z.int(), codes: z.array(z.string()) })
const offsetsSchema = z.array(z.int().check(z.minimum(0)))

/** The codes of a chunk's line, or undefined when the text is not that chunk's line. */
export function chunkCodesOf(line: string, chunk: number): readonly string[] | undefined {
  let json: unknown
  try {
    json = JSON.parse(line)
  } catch {
    return undefined
  }
  const parsed = lineSchema.safeParse(json)
  return parsed.success && parsed.data.chunk === chunk ? parsed.data.codes : undefined
}

/** The stored offsets of a plan; throws on anything else (a plan is written by the planner alone). */
export function parseOffsets(text: string): readonly number[] {
  return offsetsSchema.parse(JSON.parse(text))
}
