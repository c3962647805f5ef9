import { loadBucket, type BucketConfig } from './bucket.ts'
import { folderPrefix, integerInRange, optionalHttpUrl, requiredString, type Env } from './env.ts'

/** The jobs table, as a function that only reads it needs it. */
export interface JobTableConfig {
  readonly tableName: string
  /** The local DynamoDB server to use instead of AWS: stage local only. */
  readonly localDynamoDbEndpoint: string | undefined
}

/**
 * What every step of a job after its planning takes (counting its chunks, sending what follows,
 * closing it): the table written with an expiry, the queue, and the bucket its plan and report are in.
 */
export interface JobStepsConfig extends JobTableConfig, BucketConfig {
  /** Days a job's items are kept after its last write. */
  readonly ttlDays: number
  readonly reportPrefix: string
  readonly queueUrl: string
  /** The local SQS server to use instead of AWS: stage local only. */
  readonly localSqsEndpoint: string | undefined
  /** How long a fan-out may go without progress before another run takes it up. */
  readonly fanOutCheckSeconds: number
}

// A chunk's failures are kept in one DynamoDB item (400 KB); 500 bounded failures fit with room.
export const MAX_CHUNK_SIZE = 500
export const DEFAULT_REPORT_PREFIX = 'reports/'
export const DEFAULT_JOB_TTL_DAYS = 30
// A minute: far longer than a live fan-out goes between two checkpoints (100 messages).
export const DEFAULT_FAN_OUT_CHECK_SECONDS = 60
// SQS delays a message at most 15 minutes.
const MAX_FAN_OUT_CHECK_SECONDS = 900
// How long the jobs queue keeps a chunk's message (stack/storage.ts sets it: SQS's most). SQS drops
// a message past it without moving it to the dead-letter queue, so a job may stay open until then,
// and its items must outlive it; a day more covers the planner's sends and the dead letters' count.
export const JOBS_QUEUE_RETENTION_DAYS = 14
export const MIN_JOB_TTL_DAYS = JOBS_QUEUE_RETENTION_DAYS + 1

/** The jobs table: JOBS_TABLE, and LOCAL_DYNAMODB_ENDPOINT on stage local. */
export function loadJobTable(env: Env): JobTableConfig {
  return Object.freeze({ tableName: requiredString(env, 'JOBS_TABLE'), localDynamoDbEndpoint: optionalHttpUrl(env, 'LOCAL_DYNAMODB_ENDPOINT') })
}

/** The table, the bucket, the queue, REPORT_PREFIX, JOB_TTL_DAYS and FAN_OUT_CHECK_SECONDS: what every function that runs a job's steps reads. */
export function loadJobSteps(env: Env): JobStepsConfig {
  return Object.freeze({
    ...loadJobTable(env),
    ...loadBucket(env),
    // Reports sit beside the images, never among them: a folder of their own.
    reportPrefix: folderPrefix(env, 'REPORT_PREFIX', DEFAULT_REPORT_PREFIX),
    queueUrl: requiredString(env, 'JOBS_QUEUE_URL'),
    localSqsEndpoint: optionalHttpUrl(env, 'LOCAL_SQS_ENDPOINT'),
    fanOutCheckSeconds: integerInRange(env, 'FAN_OUT_CHECK_SECONDS', DEFAULT_FAN_OUT_CHECK_SECONDS, 1, MAX_FAN_OUT_CHECK_SECONDS),
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
