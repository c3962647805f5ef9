import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { sharedEvent } from '../support/events.ts'
import { describe, expect, it } from 'vitest'
import { handler } from '../../handlers/web.ts'

const context = { functionName: 'imgpull-test-web', awsRequestId: 'test-request' } as unknown as Context

function indexEvent(): Promise<APIGatewayProxyEventV2> {
  return sharedEvent<APIGatewayProxyEventV2>('web-index')
}

function at(event: APIGatewayProxyEventV2, method: string, path: string): APIGatewayProxyEventV2 {
  return { ...event, rawPath: path, requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method, path } } }
}

describe('Handler: web', () => {
  it('serves the index page for the shared event, with headers that let it load nothing', async () => {
    const response = await handler(await indexEvent(), context)
    expect(response).toMatchObject({ statusCode: 200, body: '<h1>Index</h1>' })
    expect(response.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    })
    expect(response.headers?.['Content-Security-Policy']).toMatch(/^default-src 'none';/)
  })

  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"><img src=x onerror=alert(1)>', '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'],
    ["' onmouseover='x", '&#39; onmouseover=&#39;x'],
    ['Tom & Jerry', 'Tom &amp; Jerry'],
  ])('escapes every HTML metacharacter of the name %j', async (name, escaped) => {
    const event = at(await indexEvent(), 'GET', `/hello/${encodeURIComponent(name)}`)
    const response = await handler({ ...event, pathParameters: { name: encodeURIComponent(name) } }, context)
    expect(response.body).toBe(`<h1>hello, ${escaped}!</h1>`)
    expect(response.headers?.['Content-Security-Policy']).toMatch(/^default-src 'none';/)
  })

  it.each([
    ['GET', '/nope'],
    ['POST', '/'],
    ['GET', '/hello/a/b'],
  ])('answers %s %s, a route it does not have, with a JSON 404', async (method, path) => {
    const response = await handler(at(await indexEvent(), method, path), context)
    expect(response).toMatchObject({ statusCode: 404, body: JSON.stringify({ message: 'Route does not exist' }) })
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'no-store' })
  })
})
