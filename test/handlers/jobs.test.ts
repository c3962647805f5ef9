import type { Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../lib/errors.ts'

const context = { functionName: 'imgpull-test-jobs', awsRequestId: 'test-request', getRemainingTimeInMillis: () => 29_000 } as unknown as Context

type Handler = (event: unknown, context: Context) => Promise<unknown>
let handler: Handler

beforeAll(async () => {
  // Download engine variables gone wrong: the planner runs no download, so reads none of them.
  Object.assign(process.env, {
    JOBS_TABLE: 'imgpull-test-jobs',
    JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/imgpull-test-jobs',
    BUCKET_NAME: 'imgpull-test-images',
    BASE_URL: 'https://images.example.org/a',
    MAX_CODES: 'many',
    HEADERS_TIMEOUT_MS: '5s',
    MEMORY_BUDGET_MB: 'all',
    POWERTOOLS_LOG_LEVEL: 'INFO',
  })
  handler = (await import('../../handlers/jobs.ts')).handler
})

describe('Handler: jobs', () => {
  it('starts without the download engine\'s variables, and refuses an empty job before storing anything', async () => {
    await expect(handler({ codes: [] }, context)).rejects.toThrow(new ValidationError('codes: must not be empty'))
  })
})
