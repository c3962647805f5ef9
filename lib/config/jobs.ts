import { MAX_CODE_LENGTH } from '../download/request.ts'
import type { JobRules } from '../jobs/planner.ts'
import { loadRequestRules } from './download.ts'
import { ConfigError, folderPrefix, integerInRange, type Env } from './env.ts'
import { loadJobSteps, MAX_CHUNK_SIZE, type JobStepsConfig } from './jobStore.ts'

/** What the jobs function (the planner) reads: the table, the queue, the bucket and what a job is held to. */
export interface JobsConfig extends JobStepsConfig {
  /** Where plans go in the bucket. */
  readonly planPrefix: string
  /** The largest POST /jobs body; a larger job goes in a manifest. */
  readonly maxBodyBytes: number
  readonly rules: JobRules
}

export const DEFAULT_MAX_JOB_CODES = 100_000
export const DEFAULT_CHUNK_SIZE = 100
// A job's chunks are sent by its planner's run (and its fan-out's, when taken up), and the offsets
// of its plan's lines are read whole: this many keeps them near 80 KB and the fan-out a few seconds.
export const MAX_CHUNKS_PER_JOB = 10_000
export const DEFAULT_WORKER_CONCURRENCY = 10
// The worker's SQS event source takes a maximum concurrency of 2 to 1000: Lambda refuses any other.
export const MIN_WORKER_CONCURRENCY = 2
export const MAX_WORKER_CONCURRENCY = 1000
export const DEFAULT_MANIFEST_PREFIX = 'manifests/'
export const DEFAULT_PLAN_PREFIX = 'plans/'
// Lambda takes at most 6 MB of request; 100 000 codes of 20 characters are 2.3 MB of JSON.
export const DEFAULT_JOBS_MAX_BODY_BYTES = 6 * 1000 * 1000 - 64 * 1024
// The most a code takes in a manifest: the longest code, quoted, a comma, a CRLF and two spaces of
// indentation (a pretty-printed JSON array; a line of a text manifest takes less).
const MANIFEST_BYTES_PER_CODE = MAX_CODE_LENGTH + 7

/**
 * The largest manifest read: MAX_JOB_CODES codes of the longest length, and a quarter more for blank
 * lines, spaces and repeats, i.e. MAX_JOB_CODES × (128 + 7) × 1.25 bytes (16.9 MB for 100 000 codes).
 */
export function maxManifestBytes(maxJobCodes: number): number {
  return Math.ceil(maxJobCodes * MANIFEST_BYTES_PER_CODE * 1.25)
}

/** Reads and validates the jobs function's environment; throws ConfigError naming the variable. */
export function loadJobsConfig(env: Env = process.env): JobsConfig {
  const maxJobCodes = integerInRange(env, 'MAX_JOB_CODES', DEFAULT_MAX_JOB_CODES, 1, 1_000_000)
  const chunkSize = integerInRange(env, 'CHUNK_SIZE', DEFAULT_CHUNK_SIZE, 1, MAX_CHUNK_SIZE)
  if (Math.ceil(maxJobCodes / chunkSize) > MAX_CHUNKS_PER_JOB) {
    throw new ConfigError('CHUNK_SIZE', `must be at least ${Math.ceil(maxJobCodes / MAX_CHUNKS_PER_JOB)} for MAX_JOB_CODES ${maxJobCodes} (at most ${MAX_CHUNKS_PER_JOB} chunks a job), got ${chunkSize}`)
  }
  return Object.freeze({
    ...loadJobSteps(env),
    // Plans sit beside the images, never among them: a folder of their own.
    planPrefix: folderPrefix(env, 'PLAN_PREFIX', DEFAULT_PLAN_PREFIX),
    maxBodyBytes: integerInRange(env, 'JOBS_MAX_BODY_BYTES', DEFAULT_JOBS_MAX_BODY_BYTES, 1024, 6 * 1000 * 1000),
    rules: Object.freeze({
      // A job is held to the rules of any download request, but for the most codes it may hold.
      request: loadRequestRules(env, maxJobCodes),
      // Manifests sit beside the images, never among them: a folder of their own.
      manifestPrefix: folderPrefix(env, 'MANIFEST_PREFIX', DEFAULT_MANIFEST_PREFIX),
      maxManifestBytes: maxManifestBytes(maxJobCodes),
      chunkSize,
      workerConcurrency: integerInRange(
        env,
        'WORKER_CONCURRENCY',
        DEFAULT_WORKER_CONCURRENCY,
        MIN_WORKER_CONCURRENCY,
        MAX_WORKER_CONCURRENCY,
        "the maximum concurrency of the worker's SQS event source, which Lambda takes from 2 to 1000",
      ),
    }),
  })
}
