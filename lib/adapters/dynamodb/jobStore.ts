import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { clip } from '../../download/failures.ts'
import type { JobFailure } from '../../jobs/job.ts'
import type { ChunkOutcome, JobState, JobStatus } from '../../jobs/job.ts'
import { JobNotFound } from '../../jobs/errors.ts'
import type { JobStore } from '../../jobs/ports.ts'

/** A writer's option: how long a job's items are kept, DynamoDB's TTL removing them after this. */
export interface JobStoreOptions {
  readonly ttlDays: number
}

/** The reads of the jobs table: what the status function and the gallery do, neither ever writing. */
export type JobReader = Pick<JobStore, 'get' | 'recent' | 'failuresOf'>

// A chunk's failures live in its item: with messages cut to this, 1000 failures stay far below
// DynamoDB's 400 KB per item.
const MAX_STORED_MESSAGE_CHARACTERS = 160
const JOB_SORT_KEY = 'JOB'
// The index of jobs by creation: every job item carries the same partition value.
export const RECENT_JOBS_INDEX = 'byCreation'
const JOB_KIND = 'job'
// Everything of a job item but the set of counted chunks, which only the counting needs.
const STATUS_PROJECTION = 'jobId, #prefix, #total, chunks, chunksDone, #ok, not_found, #error, unchanged, #bytes, createdAt, updatedAt, startedAt, finishedAt, reportKey'
const STATUS_NAMES = { '#prefix': 'prefix', '#total': 'total', '#ok': 'ok', '#error': 'error', '#bytes': 'bytes' }
const CHUNK_PREFIX = 'CHUNK#'

type Item = Record<string, unknown>

const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: JOB_SORT_KEY })
const chunkKey = (jobId: string, chunk: number) => ({ pk: `JOB#${jobId}`, sk: `${CHUNK_PREFIX}${String(chunk).padStart(7, '0')}` })

/**
 * Jobs in one DynamoDB table (partition key `pk`, sort key `sk`): an item per job holding its
 * counters, and an item per counted chunk holding its outcome and failures. A chunk is counted
 * exactly once without transactions: its item is written only if absent (the first outcome
 * stands), and the job's counters grow with `ADD` only if the chunk's number is not yet in the
 * job's set of counted chunks, in one conditional update.
 */
export function dynamoJobStore(client: DynamoDBDocumentClient, tableName: string, { ttlDays }: JobStoreOptions): JobStore {
  const expiresAt = (at: string) => Math.floor(Date.parse(at) / 1000) + ttlDays * 86_400
  const reader = dynamoJobReader(client, tableName)

  return {
    ...reader,
    async create(job) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            // A job that never finishes still expires, counted from its creation.
            Item: { ...jobKey(job.jobId), kind: JOB_KIND, ...job, chunksDone: 0, ok: 0, not_found: 0, error: 0, unchanged: 0, bytes: 0, updatedAt: job.createdAt, expiresAt: expiresAt(job.createdAt) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        return true
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false
        throw error
      }
    },

    async chunkRecorded(jobId, chunk) {
      const { Item } = await client.send(
        new GetCommand({ TableName: tableName, Key: chunkKey(jobId, chunk), ConsistentRead: true, ProjectionExpression: 'pk' }),
      )
      return Item !== undefined
    },

    async markRunning(jobId, at) {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: jobKey(jobId),
          UpdateExpression: 'SET startedAt = if_not_exists(startedAt, :at)',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at },
        }),
      ).catch((error: unknown) => {
        throw error instanceof ConditionalCheckFailedException ? new JobNotFound(`no job ${jobId}`, { cause: error }) : error
      })
    },

    async recordChunk(jobId, outcome, at) {
      let counted = outcome
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...chunkKey(jobId, outcome.chunk), ...storedOutcome(outcome), expiresAt: expiresAt(at) },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error
        const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: chunkKey(jobId, outcome.chunk), ConsistentRead: true }))
        counted = Item as unknown as ChunkOutcome
      }
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: tableName,
            Key: jobKey(jobId),
            UpdateExpression:
              'ADD countedChunks :chunkSet, chunksDone :one, #ok :ok, not_found :notFound, #error :error, unchanged :unchanged, #bytes :bytes SET updatedAt = :at',
            ConditionExpression: 'attribute_exists(pk) AND NOT contains(countedChunks, :chunk)',
            ExpressionAttributeNames: { '#ok': 'ok', '#error': 'error', '#bytes': 'bytes' },
            ExpressionAttributeValues: {
              ':chunkSet': new Set([outcome.chunk]),
              ':chunk': outcome.chunk,
              ':one': 1,
              ':ok': counted.counter.ok,
              ':notFound': counted.counter.not_found,
              ':error': counted.counter.error,
              ':unchanged': counted.unchanged,
              ':bytes': counted.bytes,
              ':at': at,
            },
            ReturnValues: 'ALL_NEW',
          }),
        )
        return statusOf(Attributes ?? {})
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error
        const job = await reader.get(jobId)
        if (job === undefined) throw new JobNotFound(`no job ${jobId} to count chunk ${outcome.chunk} into`, { cause: error })
        return job
      }
    },

    async finish(jobId, reportKey, at) {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: jobKey(jobId),
          UpdateExpression:
            'SET finishedAt = if_not_exists(finishedAt, :at), reportKey = if_not_exists(reportKey, :reportKey), updatedAt = :at, expiresAt = :expiresAt',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':at': at, ':reportKey': reportKey, ':expiresAt': expiresAt(at) },
          ReturnValues: 'ALL_NEW',
        }),
      )
      return statusOf(Attributes ?? {})
    },
  }
}

/** The jobs table read only: statuses, the newest jobs and a job's failures. */
export function dynamoJobReader(client: DynamoDBDocumentClient, tableName: string): JobReader {
  const read = async (jobId: string): Promise<JobStatus | undefined> => {
    const { Item } = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: jobKey(jobId),
        ConsistentRead: true,
        // Everything but the set of counted chunks, which only the counting needs.
        ProjectionExpression: STATUS_PROJECTION,
        ExpressionAttributeNames: STATUS_NAMES,
      }),
    )
    return Item === undefined ? undefined : statusOf(Item)
  }

  return {
    get: read,

    async recent(limit) {
      const { Items = [] } = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: RECENT_JOBS_INDEX,
          KeyConditionExpression: 'kind = :kind',
          ExpressionAttributeValues: { ':kind': JOB_KIND },
          ScanIndexForward: false,
          Limit: limit,
          ProjectionExpression: STATUS_PROJECTION,
          ExpressionAttributeNames: STATUS_NAMES,
        }),
      )
      return Items.map(statusOf)
    },

    async *failuresOf(jobId) {
      let startKey: Item | undefined
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :chunks)',
            ExpressionAttributeValues: { ':pk': jobKey(jobId).pk, ':chunks': CHUNK_PREFIX },
            ProjectionExpression: 'failures',
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        )
        for (const item of page.Items ?? []) yield (item['failures'] ?? []) as JobFailure[]
        startKey = page.LastEvaluatedKey
      } while (startKey !== undefined)
    },
  }
}

function storedOutcome(outcome: ChunkOutcome): ChunkOutcome {
  return {
    ...outcome,
    failures: outcome.failures.map((failure) => ({ ...failure, message: clip(failure.message, MAX_STORED_MESSAGE_CHARACTERS) })),
  }
}

function statusOf(item: Item): JobStatus {
  const number = (name: string) => Number(item[name] ?? 0)
  const text = (name: string) => (typeof item[name] === 'string' ? item[name] : null)
  const state: JobState = text('finishedAt') !== null ? 'done' : text('startedAt') !== null ? 'running' : 'queued'
  return {
    jobId: String(item['jobId']),
    state,
    prefix: text('prefix') ?? '',
    total: number('total'),
    chunks: number('chunks'),
    chunksDone: number('chunksDone'),
    counter: { ok: number('ok'), not_found: number('not_found'), error: number('error') },
    unchanged: number('unchanged'),
    bytes: number('bytes'),
    createdAt: String(item['createdAt']),
    updatedAt: String(item['updatedAt']),
    finishedAt: text('finishedAt'),
    reportKey: text('reportKey'),
  }
}
