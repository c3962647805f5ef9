import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createDynamoDbClient } from '../adapters/dynamodb/client.ts'
import { dynamoJobStore } from '../adapters/dynamodb/jobStore.ts'
import { createS3Client } from '../adapters/s3/client.ts'
import { s3JobObjects } from '../adapters/s3/jobObjects.ts'
import { createSqsClient } from '../adapters/sqs/client.ts'
import { sqsChunkQueue } from '../adapters/sqs/chunkQueue.ts'
import { MAX_CHUNK_SIZE, type JobsConfig } from '../config/jobs.ts'
import type { RunControls } from '../download/engine.ts'
import type { Finishing } from '../jobs/finish.ts'
import type { JobStatus } from '../jobs/job.ts'
import { startJob, type JobAccepted, type PlannerDeps } from '../jobs/planner.ts'
import { jobStatusOf } from '../jobs/status.ts'
import { countDeadLetter, runChunk, type ChunkCount, type WorkerDeps } from '../jobs/worker.ts'
import { downloadDeps, type WiringOverrides } from './download.ts'

/** The jobs core bound to its adapters: one object per function's needs, built once per container. */
export interface Jobs {
  /** `requestId`, when the request has one that stays the same on a retry, makes one job of its retries. */
  start(input: unknown, statusUrlOf: (jobId: string) => string, requestId?: string): Promise<JobAccepted>
  status(input: unknown): Promise<JobStatus>
  runChunk(body: string, controls?: RunControls): Promise<ChunkCount>
  countDeadLetter(body: string): Promise<ChunkCount>
}

/** What a caller may swap, besides the download's own overrides: the AWS clients. */
export interface JobsOverrides extends WiringOverrides {
  readonly dynamoDb?: DynamoDBDocumentClient
  readonly sqs?: SQSClient
  readonly s3Client?: S3Client
  readonly now?: () => Date
}

/** Binds the planner, the status read, the worker and the dead-letter count to DynamoDB, SQS and S3. */
export function composeJobs(config: JobsConfig, overrides: JobsOverrides = {}): Jobs {
  const s3Client = overrides.s3Client ?? createS3Client({ localEndpoint: config.download.localS3Endpoint })
  const store = dynamoJobStore(overrides.dynamoDb ?? createDynamoDbClient({ localEndpoint: config.localDynamoDbEndpoint }), config.tableName, {
    ttlDays: config.ttlDays,
  })
  const objects = s3JobObjects(s3Client, config.download.bucket)
  const finishing: Finishing = { store, objects, reportPrefix: config.reportPrefix, now: overrides.now ?? (() => new Date()) }
  // Lazily: the status function needs neither a queue nor an origin.
  let planner: PlannerDeps | undefined
  let worker: WorkerDeps | undefined
  const download = () => downloadDeps(config.download, { ...overrides, s3Client })
  return {
    start(input, statusUrlOf, requestId) {
      planner ??= {
        ...finishing,
        rules: config.rules,
        queue: sqsChunkQueue(overrides.sqs ?? createSqsClient({ localEndpoint: config.localSqsEndpoint }), config.queueUrl),
        objects,
        resolveHost: download().resolveHost,
      }
      return startJob(input, planner, statusUrlOf, requestId)
    },
    status: (input) => jobStatusOf(input, store),
    runChunk(body, controls) {
      if (worker === undefined) {
        const deps = download()
        // A chunk is held to the rules of any request, its size to the most a chunk may hold.
        worker = { ...finishing, batch: { ...deps, rules: { ...deps.rules, maxCodes: MAX_CHUNK_SIZE } } }
      }
      return runChunk(body, worker, controls)
    },
    countDeadLetter: (body) => countDeadLetter(body, finishing),
  }
}
