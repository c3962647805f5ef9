import { loadBucket, type BucketConfig } from './bucket.ts'
import { folderPrefix, integerInRange, optionalHttpUrl, requiredString, type Env } from './env.ts'

/** The jobs table, as a function that only reads it needs it. */
export interface JobTableConfig {
  readonly tableName: string
  /** The local DynamoDB server to use instead of AWS: stage local only. */
  readonly localDynamoDbEndpoint: string | undefined
}

/** What counting chunks into jobs and closing them takes: the table written with an expiry, and the bucket the reports go to. */
export interface JobFinishingConfig extends JobTableConfig, BucketConfig {
  /** Days a job's items are kept after its last write. */
  readonly ttlDays: number
  readonly reportPrefix: string
}

// A chunk's failures are kept in one DynamoDB item (400 KB); 500 bounded failures fit with room.
export const MAX_CHUNK_SIZE = 500
export const DEFAULT_REPORT_PREFIX = 'reports/'
export const DEFAULT_JOB_TTL_DAYS = 30
// How long the jobs queue keeps a chunk's message (stack/storage.ts sets it: SQS's most). SQS drops
// a message past it without moving it to the dead-letter queue, so a job may stay open until then,
// and its items must outlive it; a day more covers the planner's sends and the dead letters' count.
export const JOBS_QUEUE_RETENTION_DAYS = 14
export const MIN_JOB_TTL_DAYS = JOBS_QUEUE_RETENTION_DAYS + 1

/** The jobs table: JOBS_TABLE, and LOCAL_DYNAMODB_ENDPOINT on stage local. */
export function loadJobTable(env: Env): JobTableConfig {
  return Object.freeze({ tableName: requiredString(env, 'JOBS_TABLE'), localDynamoDbEndpoint: optionalHttpUrl(env, 'LOCAL_DYNAMODB_ENDPOINT') })
}

/** The table, the bucket, REPORT_PREFIX and JOB_TTL_DAYS: what every function that may close a job reads. */
export function loadJobFinishing(env: Env): JobFinishingConfig {
  return Object.freeze({
    ...loadJobTable(env),
    ...loadBucket(env),
    // Reports sit beside the images, never among them: a folder of their own.
    reportPrefix: folderPrefix(env, 'REPORT_PREFIX', DEFAULT_REPORT_PREFIX),
    ttlDays: integerInRange(
      env,
      'JOB_TTL_DAYS',
      DEFAULT_JOB_TTL_DAYS,
      MIN_JOB_TTL_DAYS,
      365,
      `a job stays open as long as the jobs queue keeps its chunks, ${JOBS_QUEUE_RETENTION_DAYS} days, and its items must outlive it by a day`,
    ),
  })
}
