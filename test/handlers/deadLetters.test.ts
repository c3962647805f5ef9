import type { Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../lib/errors.ts'

const context = { functionName: 'imgpull-test-deadLetters', awsRequestId: 'test-request', getRemainingTimeInMillis: () => 30_000 } as unknown as Context

type Handler = (event: unknown, context: Context) => Promise<unknown>
let handler: Handler

beforeAll(async () => {
  // The table, the bucket and the queue, beside download and planner variables gone wrong: it reads none of them.
  Object.assign(process.env, { JOBS_TABLE: 'imgpull-test-jobs', BUCKET_NAME: 'imgpull-test-images', BASE_URL: 'ftp://x', CHUNK_SIZE: '501', POWERTOOLS_LOG_LEVEL: 'INFO', JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/imgpull-test-jobs' })
  handler = (await import('../../handlers/deadLetters.ts')).handler
})

describe('Handler: deadLetters', () => {
  it('starts with only the table, the bucket and the queue set, and refuses an event that is not an SQS batch', async () => {
    await expect(handler({ codes: ['a'] }, context)).rejects.toThrow(new ValidationError('this function is started by SQS batches only'))
  })
})
