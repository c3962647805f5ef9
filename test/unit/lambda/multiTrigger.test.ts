import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { sharedEvent } from '../../support/events.ts'
import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import { multiTriggerHandler } from '../../../lib/lambda/multiTrigger.ts'

const context = {
  functionName: 'imgpull-test-download',
  awsRequestId: 'test-request',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store', 'X-Content-Type-Options': 'nosniff' }


/** A core that echoes what it was given, or rejects it like the real parser does. */
const echo = multiTriggerHandler(async (input) => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ValidationError('request must be a JSON object')
  }
  if ('explode' in input) throw new Error('database password is hunter2')
  return { received: input }
}, { maxBodyBytes: 1024 })

describe('Function: multiTriggerHandler', () => {
  it('unwraps an HTTP API event to its JSON body and answers JSON 200', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await echo(httpEvent, context)
    expect(response).toEqual({
      statusCode: 200,
      headers: JSON_HEADERS,
      body: JSON.stringify({ received: JSON.parse(httpEvent.body ?? '') as unknown }),
    })
  })

  it('answers with the status a function names, takes what it picks from the event, and tells the core where the request was sent', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const accepted = multiTriggerHandler(async (input, { httpOrigin }) => ({ input, httpOrigin }), {
      httpStatus: 202,
      httpInput: (event) => ({ path: event.rawPath }),
    })
    const proxied = { ...httpEvent, headers: { ...httpEvent.headers, host: 'api.example.com', 'x-forwarded-proto': 'https' } }
    expect(await accepted(proxied, context)).toMatchObject({ statusCode: 202, body: JSON.stringify({ input: { path: '/download' }, httpOrigin: 'https://api.example.com' }) })
    expect(await accepted({ codes: [] }, context)).toEqual({ input: { codes: [] } })
  })

  it('decodes a base64 body', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const encoded = { ...httpEvent, isBase64Encoded: true, body: Buffer.from('{"codes":["a"]}').toString('base64') }
    expect(await echo(encoded, context)).toMatchObject({ statusCode: 200, body: '{"received":{"codes":["a"]}}' })
  })

  it('treats an HTTP request without a body as an empty request', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    expect(await echo({ ...httpEvent, body: undefined }, context)).toMatchObject({ statusCode: 200, body: '{"received":{}}' })
  })

  it.each([
    ['not JSON', '{codes:', 'body must be valid JSON'],
    ['a JSON array', '["a"]', 'body must be a JSON object, got an array'],
    ['JSON null', 'null', 'body must be a JSON object, got null'],
    ['the JSON string ""', '""', 'body must be a JSON object, got a string'],
    ['a JSON number', '3', 'body must be a JSON object, got a number'],
  ])('answers a body that is %s with 400 and a JSON message', async (_, body, message) => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await echo({ ...httpEvent, body }, context)
    expect(response).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: JSON.stringify({ message }),
    })
  })

  it.each([
    ['text/plain', 415, /^body must be JSON \(Content-Type application\/json\), got "text\/plain"$/],
    ['application/x-www-form-urlencoded', 415, /^body must be JSON/],
    ['application/json; charset=utf-8', 200, undefined],
    ['application/vnd.api+json', 200, undefined],
  ])('answers a body declared as %s with %i', async (contentType, statusCode, message) => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await echo({ ...httpEvent, headers: { ...httpEvent.headers, 'content-type': contentType } }, context)
    expect(response).toMatchObject({ statusCode })
    if (message !== undefined) expect((JSON.parse((response as { body: string }).body) as { message: string }).message).toMatch(message)
  })

  it.each([
    ['a number', 42, 'got a number'],
    ['a list', ['application/json'], 'got an array'],
    ['null', null, 'got null'],
  ])('answers a content-type header that is %s, not a string, with 400 naming it', async (_, value, got) => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await echo({ ...httpEvent, headers: { ...httpEvent.headers, 'content-type': value as unknown as string } }, context)
    expect(response).toEqual({ statusCode: 400, headers: JSON_HEADERS, body: JSON.stringify({ message: `header content-type must be a string, ${got}` }) })
  })

  it('takes a body of {} or of blanks for the empty request, as documented', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    expect(await echo({ ...httpEvent, body: '{}' }, context)).toMatchObject({ statusCode: 200, body: '{"received":{}}' })
    expect(await echo({ ...httpEvent, body: ' \n' }, context)).toMatchObject({ statusCode: 200, body: '{"received":{}}' })
  })

  it('answers a request whose host header is not a string, with no origin for its links', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const originSeen = multiTriggerHandler(async (_input, { httpOrigin }) => ({ httpOrigin: httpOrigin ?? 'none' }), { maxBodyBytes: 1024 })
    const response = await originSeen({ ...httpEvent, headers: { ...httpEvent.headers, host: 7 as unknown as string } }, context)
    expect(response).toMatchObject({ statusCode: 200, body: JSON.stringify({ httpOrigin: 'none' }) })
  })

  it('answers a body over the size cap with 413, before parsing it', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const huge = JSON.stringify({ codes: Array.from({ length: 200 }, (_, i) => `code-${i}`) })
    expect(huge.length).toBeGreaterThan(1024)
    const response = await echo({ ...httpEvent, body: huge }, context)
    expect(response).toEqual({ statusCode: 413, headers: JSON_HEADERS, body: JSON.stringify({ message: 'body must be at most 1024 bytes' }) })
  })

  it('answers an unexpected failure with a bare 500 that reveals nothing', async () => {
    const httpEvent = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const response = await echo({ ...httpEvent, body: '{"explode":true}' }, context)
    expect(response).toEqual({
      statusCode: 500,
      headers: JSON_HEADERS,
      body: JSON.stringify({ message: 'Internal Server Error' }),
    })
  })

  it('passes a direct invoke through and returns the plain result', async () => {
    const direct = await sharedEvent<Record<string, unknown>>('download-direct')
    expect(await echo(direct, context)).toEqual({ received: direct })
  })

  it("gives the core a schedule event's detail: the batch the rule's input carries", async () => {
    const scheduleEvent = await sharedEvent<{ detail: unknown }>('jobs-schedule')
    expect(await echo(scheduleEvent, context)).toEqual({ received: scheduleEvent.detail })
  })

  it.each([
    ['download-http', 'http'],
    ['jobs-schedule', 'schedule'],
    ['download-direct', 'direct'],
  ])('tells the core that %s came by %s', async (name, trigger) => {
    const seen = multiTriggerHandler(async (_input, invocation) => ({ trigger: invocation.trigger }), { maxBodyBytes: 1024 })
    const response = await seen(await sharedEvent(name), context)
    const answer = trigger === 'http' ? (JSON.parse((response as { body: string }).body) as unknown) : response
    expect(answer).toEqual({ trigger })
  })

  it('refuses an SQS batch as a trigger the function does not take, before the core sees it', async () => {
    let called = false
    const direct = multiTriggerHandler(async () => (called = true), { maxBodyBytes: 1024 })
    await expect(direct(await sharedEvent('sqs-batch'), context)).rejects.toThrow(
      new ValidationError('this function is not started by sqs events'),
    )
    expect(called).toBe(false)
  })

  it('hands an SQS batch to a function that takes SQS, as it came', async () => {
    const batch = await sharedEvent<{ Records: unknown[] }>('sqs-batch')
    const worker = multiTriggerHandler(async (input, invocation) => ({ input, trigger: invocation.trigger }), {
      maxBodyBytes: 1024,
      triggers: ['sqs'],
    })
    expect(await worker(batch, context)).toEqual({ input: batch, trigger: 'sqs' })
  })

  it("refuses a schedule event whose detail is not a JSON object, never reading it as the empty request", async () => {
    const ruleEvent = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: null }
    await expect(echo(ruleEvent, context)).rejects.toThrow(new ValidationError('detail must be a JSON object, got null'))
    await expect(echo({ ...ruleEvent, detail: ['cn'] }, context)).rejects.toThrow(new ValidationError('detail must be a JSON object, got an array'))
  })

  it('treats a schedule rule event without input as an empty request', async () => {
    const ruleEvent = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }
    expect(await echo(ruleEvent, context)).toEqual({ received: {} })
  })

  it('throws a typed error to a direct invoker', async () => {
    await expect(echo(['a'], context)).rejects.toThrow(ValidationError)
  })

  it('refuses a direct event of null, never reading it as the empty request', async () => {
    await expect(echo(null, context)).rejects.toThrow(new ValidationError('event must be a JSON object, got null'))
    await expect(echo('codes', context)).rejects.toThrow(new ValidationError('event must be a JSON object, got a string'))
  })

  it('takes a direct invoke with no payload (serverless invoke local without --data sends "") for the empty request', async () => {
    expect(await echo('', context)).toEqual({ received: {} })
    expect(await echo(undefined, context)).toEqual({ received: {} })
  })

  it('gives the core the time the Lambda has left and a signal that aborts before its timeout', async () => {
    let left = 12_345
    const seen = multiTriggerHandler(async (_input, { signal, remainingMs }) => {
      const first = remainingMs()
      left = 999
      return { first, second: remainingMs(), aborted: signal.aborted }
    }, { maxBodyBytes: 1024 })
    const clock: Context = { ...context, getRemainingTimeInMillis: () => left }
    expect(await seen({}, clock)).toEqual({ first: 12_345, second: 999, aborted: false })
  })
})
