import type { Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../lib/errors.ts'

const context = { functionName: 'imgpull-test-worker', awsRequestId: 'test-request', getRemainingTimeInMillis: () => 60_000 } as unknown as Context

type Handler = (event: unknown, context: Context) => Promise<unknown>
let handler: Handler

beforeAll(async () => {
  // The planner's and the HTTP body's variables gone wrong: the worker reads none of them.
  Object.assign(process.env, { JOBS_TABLE: 'imgpull-test-jobs', BUCKET_NAME: 'imgpull-test-images', BASE_URL: 'https://images.example.org/a', MAX_CODES: 'many', JOBS_MAX_BODY_BYTES: '1', MANIFEST_PREFIX: 'm', POWERTOOLS_LOG_LEVEL: 'INFO', JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/imgpull-test-jobs' })
  handler = (await import('../../handlers/worker.ts')).handler
})

describe('Handler: worker', () => {
  it('starts without the planner\'s variables, and refuses an event that is not an SQS batch', async () => {
    await expect(handler({ codes: ['a'] }, context)).rejects.toThrow(new ValidationError('this function is started by SQS batches only'))
  })
})
