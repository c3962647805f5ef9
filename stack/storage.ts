import { getAtt, ref, sub, type Resources } from './cloudFormation.ts'

/** How long each queue hides a message it handed out: derived from the timeouts of the functions that read it. */
export type QueueVisibility = Readonly<Record<string, number>>

/** The queues read by the functions, all with SQS-managed encryption. */
export interface QueueSettings {
  readonly visibility: QueueVisibility
  readonly maxReceiveCount: number
}

/**
 * The jobs table's billing, keys and index, as CloudFormation and DynamoDB's CreateTable both
 * take them: the local DynamoDB of `npm start` and the tests is made from the same definition.
 */
export const JOBS_TABLE_KEYS = {
  BillingMode: 'PAY_PER_REQUEST',
  AttributeDefinitions: [
    { AttributeName: 'pk', AttributeType: 'S' },
    { AttributeName: 'sk', AttributeType: 'S' },
    { AttributeName: 'kind', AttributeType: 'S' },
    { AttributeName: 'createdAt', AttributeType: 'S' },
  ],
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
  // The recent jobs, newest first, for the gallery's list of jobs: job items only carry `kind`.
  // Only what the list shows is projected, not how a job is fetched and fanned out.
  GlobalSecondaryIndexes: [
    {
      IndexName: 'byCreation',
      KeySchema: [
        { AttributeName: 'kind', KeyType: 'HASH' },
        { AttributeName: 'createdAt', KeyType: 'RANGE' },
      ],
      Projection: {
        ProjectionType: 'INCLUDE',
        NonKeyAttributes: ['jobId', 'prefix', 'total', 'chunks', 'chunksDone', 'ok', 'not_found', 'error', 'unchanged', 'bytes', 'updatedAt', 'startedAt', 'finishedAt', 'reportKey'],
      },
    },
  ],
} as const

// A job's plan is read until the job is done, which is at most the jobs queue's 14 days of
// retention after it was planned: kept twice as long, then removed.
export const PLAN_EXPIRY_DAYS = 30

/** The private images bucket, and the jobs' table. */
export function dataResources({ planPrefix }: { readonly planPrefix: string }): Resources {
  return {
    ImagesBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        LifecycleConfiguration: {
          Rules: [
            { Id: 'AbortIncompleteUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
            { Id: 'ExpirePlans', Status: 'Enabled', Prefix: planPrefix, ExpirationInDays: PLAN_EXPIRY_DAYS },
          ],
        },
      },
    },
    ImagesBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: ref('ImagesBucket'),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'DenyInsecureTransport',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [getAtt('ImagesBucket', 'Arn'), sub('${ImagesBucket.Arn}/*')],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    // One item per job (its counters) and one per counted chunk (its outcome and failures),
    // removed by TTL some days after; on-demand, encrypted.
    JobsTable: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        ...JOBS_TABLE_KEYS,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    },
  }
}

// AWS's advice for a queue feeding a Lambda function: a visibility timeout of at least six times
// the function's timeout, so a message is not delivered again while a worker may still hold it.
export const VISIBILITY_PER_TIMEOUT = 6
// SQS's longest retention. Past it SQS drops a message without moving it to the dead-letter queue,
// so the jobs queue keeps its chunks this long, and a job's items (JOB_TTL_DAYS, at least a day
// more: lib/config/jobStore.ts) outlive them.
const FOURTEEN_DAYS = 1_209_600

/**
 * The jobs queue (a chunk per message; one delivered maxReceiveCount times goes to the dead-letter
 * queue, where its codes are counted error, so a job always finishes), its dead-letter queue, and
 * the queue that keeps the scheduled runs that failed all their tries, each 14 days.
 */
export function queueResources({ visibility, maxReceiveCount }: QueueSettings): Resources {
  const visibilityOf = (queue: string) => (visibility[queue] === undefined ? {} : { VisibilityTimeout: visibility[queue] })
  return {
    JobsQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        ...visibilityOf('JobsQueue'),
        MessageRetentionPeriod: FOURTEEN_DAYS,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: getAtt('JobsDeadLetterQueue', 'Arn'), maxReceiveCount },
      },
    },
    JobsDeadLetterQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { ...visibilityOf('JobsDeadLetterQueue'), MessageRetentionPeriod: FOURTEEN_DAYS, SqsManagedSseEnabled: true },
    },
    ScheduleFailuresQueue: {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: FOURTEEN_DAYS, SqsManagedSseEnabled: true },
    },
  }
}
