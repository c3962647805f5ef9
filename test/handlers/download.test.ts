import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { sharedEvent } from '../support/events.ts'
import { useIntegrationServers } from '../support/localS3.ts'
import { loggedLines, writtenLines } from '../support/loggedLines.ts'
import { image, jpegBytes, startOrigin, type OriginFixture } from '../../devkit/originFixture.ts'

const context = {
  functionName: 'imgpull-test-download',
  awsRequestId: 'test-request',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context

type Handler = (event: unknown, context: Context) => Promise<unknown>

const servers = useIntegrationServers()
let origin: OriginFixture
let handler: Handler


beforeAll(async () => {
  origin = servers.track(await startOrigin({ '/a.jpg': image(jpegBytes(1)) }))
  // The handler reads its environment once, at import, as on a cold start.
  Object.assign(process.env, {
    BUCKET_NAME: servers.s3.bucket,
    LOCAL_S3_ENDPOINT: servers.s3.endpoint,
    STAGE: 'local',
    BASE_URL: origin.baseUrl,
    POWERTOOLS_LOG_LEVEL: 'INFO',
  })
  handler = (await import('../../handlers/download.ts')).handler
})

describe('Handler: download', () => {
  it('warns of nothing over warm invocations by every trigger and a refused request, and tags each metric with its trigger', async () => {
    const http = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const schedule = await sharedEvent<Record<string, unknown>>('jobs-schedule')
    const request = { baseUrl: origin.baseUrl, codes: ['a'], prefix: 'flags/handler/' }

    const lines = await writtenLines(async () => {
      await handler({ ...http, body: JSON.stringify(request) }, context)
      await handler(request, context)
      await handler({ ...schedule, detail: request }, context)
      await handler(request, context)
      await handler({ ...http, body: '{"codes":[]}' }, context)
      await expect(handler({ codes: 'a' }, context)).rejects.toThrow('codes: must be an array of strings')
    })

    expect(lines.filter((line) => /WARN|warn|already been added|No application metrics/.test(line))).toEqual([])
    const emf = lines.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(emf.map((metrics) => [metrics['trigger'], metrics['ok']])).toEqual([
      ['http', 1],
      ['direct', 1],
      ['schedule', 1],
      ['direct', 1],
    ])
  })

  it('answers a refused HTTP request with 400 and logs no unexpected failure', async () => {
    const http = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    let response: unknown
    const lines = await loggedLines(async () => {
      response = await handler({ ...http, body: '{"codes":[]}' }, context)
    })
    expect(response).toMatchObject({ statusCode: 400, body: '{"message":"codes: must not be empty"}' })
    expect(lines.filter((line) => line['level'] === 'ERROR')).toEqual([])
  })

  it.each([
    ['the number 0', 0],
    ['a number', 42],
    ['an object', { codes: ['a'] }],
    ['an array', ['a']],
    ['true', true],
  ])('answers an HTTP event whose body is %s with 400, not 500', async (_, body) => {
    const http = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await handler({ ...http, body }, context)
    expect(response).toMatchObject({ statusCode: 400, body: '{"message":"body must be a string holding JSON"}' })
  })

  it.each(['?', '#', '?#', '/?'])('refuses a baseUrl ending in %s, which would swallow every code\'s path', async (tail) => {
    const http = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await handler({ ...http, body: JSON.stringify({ baseUrl: `${origin.baseUrl}${tail}`, codes: ['a', 'b'] }) }, context)
    expect(response).toMatchObject({ statusCode: 400, body: '{"message":"baseUrl: must not contain a query or fragment"}' })
    await expect(handler({ baseUrl: `${origin.baseUrl}${tail}`, codes: ['a'] }, context)).rejects.toThrow(
      'baseUrl: must not contain a query or fragment',
    )
  })
})
