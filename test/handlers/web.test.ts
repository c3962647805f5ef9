import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { handler } from '../../handlers/web.ts'

const context = { functionName: 'imgpull-test-web', awsRequestId: 'test-request' } as unknown as Context

async function indexEvent(): Promise<APIGatewayProxyEventV2> {
  const text = await readFile(new URL('../../events/web-index.json', import.meta.url), 'utf8')
  return JSON.parse(text) as APIGatewayProxyEventV2
}

function at(event: APIGatewayProxyEventV2, method: string, path: string): APIGatewayProxyEventV2 {
  return { ...event, rawPath: path, requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method, path } } }
}

describe('Handler: web', () => {
  it('serves the index page for the shared event', async () => {
    expect(await handler(await indexEvent(), context)).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: '<h1>Index</h1>',
    })
  })

  it.each([
    ['GET', '/nope'],
    ['POST', '/'],
    ['GET', '/hello/a/b'],
  ])('answers %s %s, a route it does not have, with a JSON 404', async (method, path) => {
    expect(await handler(at(await indexEvent(), method, path), context)).toEqual({
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Route does not exist' }),
    })
  })
})
