import { keyPrefixProblem } from '../download/keys.ts'
import type { JobRules } from '../jobs/planner.ts'
import { loadDownloadConfig, type DownloadConfig } from './download.ts'
import { ConfigError, integerInRange, optionalHttpUrl, requiredString, type Env } from './env.ts'

/** What the jobs functions (planner, status, worker, dead letters) read from their environment. */
export interface JobsConfig {
  /** The download settings every chunk runs with, and the bucket. */
  readonly download: DownloadConfig
  readonly tableName: string
  readonly queueUrl: string
  /** The local SQS and DynamoDB servers to use instead of AWS: stage local only. */
  readonly localSqsEndpoint: string | undefined
  readonly localDynamoDbEndpoint: string | undefined
  /** The largest POST /jobs body; a larger job goes in a manifest. */
  readonly maxBodyBytes: number
  readonly rules: JobRules
  readonly reportPrefix: string
  readonly ttlDays: number
}

export const DEFAULT_MAX_JOB_CODES = 100_000
export const DEFAULT_CHUNK_SIZE = 100
// A chunk's failures are kept in one DynamoDB item (400 KB); 500 bounded failures fit with room.
export const MAX_CHUNK_SIZE = 500
// The job's item holds the set of its counted chunks (about 4 bytes each) and is rewritten with
// every chunk counted: this many keeps it near 40 KB, far below DynamoDB's 400 KB per item.
export const MAX_CHUNKS_PER_JOB = 10_000
export const DEFAULT_WORKER_CONCURRENCY = 10
export const DEFAULT_MANIFEST_PREFIX = 'manifests/'
export const DEFAULT_REPORT_PREFIX = 'reports/'
export const DEFAULT_JOB_TTL_DAYS = 30
// Lambda takes at most 6 MB of request; 100 000 codes of 20 characters are 2.3 MB of JSON.
export const DEFAULT_JOBS_MAX_BODY_BYTES = 6 * 1000 * 1000 - 64 * 1024
// 100 000 codes of the longest length, one per line.
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024

/** Reads and validates the jobs functions' environment; throws ConfigError naming the variable. */
export function loadJobsConfig(env: Env = process.env): JobsConfig {
  const download = loadDownloadConfig(env)
  const maxJobCodes = integerInRange(env, 'MAX_JOB_CODES', DEFAULT_MAX_JOB_CODES, 1, 1_000_000)
  const chunkSize = integerInRange(env, 'CHUNK_SIZE', DEFAULT_CHUNK_SIZE, 1, MAX_CHUNK_SIZE)
  if (Math.ceil(maxJobCodes / chunkSize) > MAX_CHUNKS_PER_JOB) {
    throw new ConfigError('CHUNK_SIZE', `must be at least ${Math.ceil(maxJobCodes / MAX_CHUNKS_PER_JOB)} for MAX_JOB_CODES ${maxJobCodes} (at most ${MAX_CHUNKS_PER_JOB} chunks a job), got ${chunkSize}`)
  }
  return Object.freeze({
    download,
    tableName: requiredString(env, 'JOBS_TABLE'),
    queueUrl: requiredString(env, 'JOBS_QUEUE_URL'),
    localSqsEndpoint: optionalHttpUrl(env, 'LOCAL_SQS_ENDPOINT'),
    localDynamoDbEndpoint: optionalHttpUrl(env, 'LOCAL_DYNAMODB_ENDPOINT'),
    maxBodyBytes: integerInRange(env, 'JOBS_MAX_BODY_BYTES', DEFAULT_JOBS_MAX_BODY_BYTES, 1024, 6 * 1000 * 1000),
    rules: Object.freeze({
      batch: Object.freeze({ ...download.rules, maxCodes: maxJobCodes }),
      manifestPrefix: prefix(env, 'MANIFEST_PREFIX', DEFAULT_MANIFEST_PREFIX),
      maxManifestBytes: MAX_MANIFEST_BYTES,
      chunkSize,
      workers: integerInRange(env, 'WORKER_CONCURRENCY', DEFAULT_WORKER_CONCURRENCY, 1, 1000),
    }),
    reportPrefix: prefix(env, 'REPORT_PREFIX', DEFAULT_REPORT_PREFIX),
    ttlDays: integerInRange(env, 'JOB_TTL_DAYS', DEFAULT_JOB_TTL_DAYS, 1, 365),
  })
}

// Manifests and reports sit beside the images, never among them: a prefix of their own, ending in "/".
function prefix(env: Env, name: string, fallback: string): string {
  const raw = env[name] ?? fallback
  const problem = raw === '' || !raw.endsWith('/') ? 'must be a folder, ending in "/"' : keyPrefixProblem(raw)
  if (problem !== undefined) throw new ConfigError(name, `${problem}, got "${raw}"`)
  return raw
}
