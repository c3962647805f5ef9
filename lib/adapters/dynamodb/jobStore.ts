import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb'
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { clip } from '../../download/failures.ts'
import type { JobFailure, JobRecord, JobState, JobStatus, PartOutcome } from '../../jobs/job.ts'
import { JobNotFound } from '../../jobs/errors.ts'
import type { JobStore } from '../../jobs/ports.ts'

/** A writer's option: how long a job's items are kept, DynamoDB's TTL removing them after this. */
export interface JobStoreOptions {
  readonly ttlDays: number
}

/** The reads of the jobs table: what the status function and the gallery do, neither ever writing. */
export type JobReader = Pick<JobStore, 'get' | 'recent' | 'failuresOf'>

// A part's failures live in its item: with messages cut to this, 1000 failures stay far below
// DynamoDB's 400 KB per item.
const MAX_STORED_MESSAGE_CHARACTERS = 160
const JOB_SORT_KEY = 'JOB'
// The index of jobs by creation: every job item carries the same partition value.
export const RECENT_JOBS_INDEX = 'byCreation'
const JOB_KIND = 'job'
// What a status shows: the job item holds nothing else of size, so its read is one unit at most.
const STATUS_PROJECTION = 'jobId, #prefix, #total, chunks, chunksDone, #ok, not_found, #error, unchanged, #bytes, createdAt, updatedAt, startedAt, finishedAt, reportKey'
const STATUS_NAMES = { '#prefix': 'prefix', '#total': 'total', '#ok': 'ok', '#error': 'error', '#bytes': 'bytes' }
const PART_PREFIX = 'CHUNK#'
// Part items read per page of failures: 100 parts of at most 1000 bounded failures stay within
// the 1 MB DynamoDB returns a page.
const FAILURE_PAGE_PARTS = 25

type Item = Record<string, unknown>

const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: JOB_SORT_KEY })
// Sorted by chunk, then part: a job's failures come back in chunk order.
const partId = (chunk: number, part: number) => `${String(chunk).padStart(7, '0')}#${String(part).padStart(4, '0')}`
const partKey = (jobId: string, chunk: number, part: number) => ({ pk: `JOB#${jobId}`, sk: `${PART_PREFIX}${partId(chunk, part)}` })
// Beside the parts, never among them: the failures' query reads the parts alone.
const leaseKey = (jobId: string, chunk: number, part: number) => ({ pk: `JOB#${jobId}`, sk: `LEASE#${partId(chunk, part)}` })

/**
 * Jobs in one DynamoDB table (partition key `pk`, sort key `sk`): an item per job holding its
 * counters and how far its fan-out got, and an item per counted part of a chunk holding its
 * outcome and failures. A part is counted exactly once by one transaction: its item is written
 * only if absent (the first outcome stands) together with its job's counters, and only while the
 * job exists and its plan has the chunk. The job item never grows with the job: a status read is
 * one small item, and a count rewrites about 1 KB.
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
            Item: {
              ...jobKey(job.jobId),
              kind: JOB_KIND,
              ...job,
              chunksSent: 0,
              fanOutAt: job.createdAt,
              chunksDone: 0,
              ok: 0,
              not_found: 0,
              error: 0,
              unchanged: 0,
              bytes: 0,
              updatedAt: job.createdAt,
              expiresAt: expiresAt(job.createdAt),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        return true
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false
        throw error
      }
    },

    async record(jobId) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: jobKey(jobId), ConsistentRead: true }))
      return Item === undefined ? undefined : recordOf(Item)
    },

    async fannedOut(jobId, chunksSent, at) {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: jobKey(jobId),
          UpdateExpression: 'SET chunksSent = :sent, fanOutAt = :at',
          // Never back: a slower run of the same fan-out notes only what is further on.
          ConditionExpression: 'attribute_exists(pk) AND chunksSent < :sent',
          ExpressionAttributeValues: { ':sent': chunksSent, ':at': at },
        }),
      ).catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException)) throw error
      })
    },

    async partOf(jobId, chunk, part) {
      const { Item } = await client.send(new GetCommand({ TableName: tableName, Key: partKey(jobId, chunk, part), ConsistentRead: true }))
      return Item === undefined ? undefined : partOf(Item)
    },

    async leasePart(jobId, chunk, part, until) {
      await client.send(new PutCommand({ TableName: tableName, Item: { ...leaseKey(jobId, chunk, part), leasedUntil: until, expiresAt: expiresAt(until) } }))
    },

    async recordPart(jobId, outcome, at, { unleasedAt } = {}) {
      const final = outcome.rest.length === 0 ? 1 : 0
      // Only once no worker holds the part: a lease that ended, or none.
      const unleased =
        unleasedAt === undefined
          ? []
          : [
              {
                ConditionCheck: {
                  TableName: tableName,
                  Key: leaseKey(jobId, outcome.chunk, outcome.part),
                  ConditionExpression: 'attribute_not_exists(pk) OR leasedUntil <= :at',
                  ExpressionAttributeValues: { ':at': unleasedAt },
                },
              },
            ]
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: { ...partKey(jobId, outcome.chunk, outcome.part), ...storedOutcome(outcome), expiresAt: expiresAt(at) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: jobKey(jobId),
                  UpdateExpression: 'ADD chunksDone :done, #ok :ok, not_found :notFound, #error :error, unchanged :unchanged, #bytes :bytes SET updatedAt = :at, startedAt = if_not_exists(startedAt, :at)',
                  ConditionExpression: 'attribute_exists(pk) AND chunks > :chunk',
                  ExpressionAttributeNames: { '#ok': 'ok', '#error': 'error', '#bytes': 'bytes' },
                  ExpressionAttributeValues: {
                    ':chunk': outcome.chunk,
                    ':done': final,
                    ':ok': outcome.counter.ok,
                    ':notFound': outcome.counter.not_found,
                    ':error': outcome.counter.error,
                    ':unchanged': outcome.unchanged,
                    ':bytes': outcome.bytes,
                    ':at': at,
                  },
                },
              },
              ...unleased,
            ],
          }),
        )
        return 'counted'
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error
        const [part, job, lease] = error.CancellationReasons ?? []
        if (part?.Code === 'ConditionalCheckFailed') return 'counted before'
        if (lease?.Code === 'ConditionalCheckFailed' && job?.Code !== 'ConditionalCheckFailed') return 'leased'
        if (job?.Code !== 'ConditionalCheckFailed') throw error
        if ((await reader.get(jobId)) === undefined) throw new JobNotFound(`no job ${jobId} to count chunk ${outcome.chunk} into`, { cause: error })
        return 'not in plan'
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
        // What a status shows, not how the job is fetched and fanned out.
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
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :parts)',
            ExpressionAttributeValues: { ':pk': jobKey(jobId).pk, ':parts': PART_PREFIX },
            ProjectionExpression: 'failures',
            ConsistentRead: true,
            Limit: FAILURE_PAGE_PARTS,
            ExclusiveStartKey: startKey,
          }),
        )
        yield (page.Items ?? []).flatMap((item) => (item['failures'] ?? []) as JobFailure[])
        startKey = page.LastEvaluatedKey
      } while (startKey !== undefined)
    },
  }
}

function storedOutcome(outcome: PartOutcome): PartOutcome {
  return {
    ...outcome,
    failures: outcome.failures.map((failure) => ({ ...failure, message: clip(failure.message, MAX_STORED_MESSAGE_CHARACTERS) })),
  }
}

function partOf(item: Item): PartOutcome {
  const { chunk, part, counter, unchanged, bytes, failures, rest } = item as unknown as PartOutcome
  return { chunk, part, counter, unchanged, bytes, failures, rest }
}

function recordOf(item: Item): JobRecord {
  return {
    ...statusOf(item),
    baseUrl: String(item['baseUrl']),
    concurrency: Number(item['concurrency']),
    force: item['force'] === true,
    planKey: String(item['planKey']),
    planBytes: Number(item['planBytes']),
    maxOriginRequests: Number(item['maxOriginRequests']),
    chunksSent: Number(item['chunksSent'] ?? 0),
    fanOutAt: typeof item['fanOutAt'] === 'string' ? item['fanOutAt'] : null,
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
