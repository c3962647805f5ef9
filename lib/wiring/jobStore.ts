import type { S3Client } from '@aws-sdk/client-s3'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { createDynamoDbClient } from '../adapters/dynamodb/client.ts'
import { dynamoJobReader, dynamoJobStore, type JobReader } from '../adapters/dynamodb/jobStore.ts'
import { createS3Client } from '../adapters/s3/client.ts'
import { s3JobObjects } from '../adapters/s3/jobObjects.ts'
import { createSqsClient } from '../adapters/sqs/client.ts'
import { sqsJobQueue } from '../adapters/sqs/jobQueue.ts'
import type { JobStepsConfig, JobTableConfig } from '../config/jobStore.ts'
import type { JobSteps } from '../jobs/finish.ts'

/** What a caller may swap in the jobs functions' wiring: the AWS clients and the clock. */
export interface JobStoreOverrides {
  readonly dynamoDb?: DynamoDBDocumentClient
  readonly s3Client?: S3Client
  readonly sqs?: SQSClient
  readonly now?: () => Date
}

/** The jobs table read only, as the status function and the gallery read it. */
export function jobReader(config: JobTableConfig, overrides: JobStoreOverrides = {}): JobReader {
  return dynamoJobReader(overrides.dynamoDb ?? createDynamoDbClient({ localEndpoint: config.localDynamoDbEndpoint }), config.tableName)
}

/** A job's steps bound to DynamoDB, SQS and S3: what the planner, the worker and the dead letters share. */
export function jobSteps(config: JobStepsConfig, overrides: JobStoreOverrides = {}): JobSteps {
  const dynamoDb = overrides.dynamoDb ?? createDynamoDbClient({ localEndpoint: config.localDynamoDbEndpoint })
  const s3Client = overrides.s3Client ?? createS3Client({ localEndpoint: config.localS3Endpoint })
  return {
    store: dynamoJobStore(dynamoDb, config.tableName, { ttlDays: config.ttlDays }),
    objects: s3JobObjects(s3Client, config.bucket),
    queue: sqsJobQueue(overrides.sqs ?? createSqsClient({ localEndpoint: config.localSqsEndpoint }), config.queueUrl),
    reportPrefix: config.reportPrefix,
    now: overrides.now ?? (() => new Date()),
    fanOutCheckSeconds: config.fanOutCheckSeconds,
  }
}
