import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { ValidationError } from '../../lib/errors.ts'
import { sharedEvent } from '../support/events.ts'
import { loggedLines } from '../support/loggedLines.ts'

const context = { functionName: 'imgpull-test-jobStatus', awsRequestId: 'test-request', getRemainingTimeInMillis: () => 10_000 } as unknown as Context

type Handler = (event: unknown, context: Context) => Promise<unknown>
let handler: Handler

beforeAll(async () => {
  // Only the table, beside variables of other functions gone wrong: none of them is this function's to read.
  Object.assign(process.env, { JOBS_TABLE: 'imgpull-test-jobs', BASE_URL: 'ftp://x', MAX_BODY_BYTES: '1', JOBS_MAX_BODY_BYTES: 'lots', POWERTOOLS_LOG_LEVEL: 'INFO' })
  for (const name of ['BUCKET_NAME', 'JOBS_QUEUE_URL']) Reflect.deleteProperty(process.env, name)
  handler = (await import('../../handlers/jobStatus.ts')).handler
})

describe('Handler: jobStatus', () => {
  it('starts with only the jobs table set, and answers an id that cannot be a job with 400 before reading anything', async () => {
    const http = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const event = { ...http, body: undefined, pathParameters: { jobId: 'not-a-job' } }
    let response: unknown
    const lines = await loggedLines(async () => {
      response = await handler(event, context)
    })
    expect(response).toMatchObject({ statusCode: 400, body: JSON.stringify({ message: 'jobId: must be the id POST /jobs answered (a lower-case UUID)' }) })
    expect(lines.filter((line) => line['level'] === 'ERROR')).toEqual([])
  })

  it('throws the same refusal, typed, to a direct invoker', async () => {
    await expect(handler({ jobId: 'not-a-job' }, context)).rejects.toThrow(ValidationError)
  })
})
