import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import { ClientError, ValidationError } from '../../../lib/errors.ts'
import { isSqsEvent, parseJsonBody, triggerOf } from '../../../lib/lambda/events.ts'
import { sharedEvent } from '../../support/events.ts'

describe('Function: triggerOf', () => {
  it.each([
    ['download-http', 'http'],
    ['web-index', 'http'],
    ['jobs-schedule', 'schedule'],
    ['sqs-batch', 'sqs'],
    ['download-direct', 'direct'],
  ])('tells %s as %s', async (name, trigger) => {
    expect(triggerOf(await sharedEvent(name))).toBe(trigger)
  })

  it.each([null, 0, 'text', [], { Records: [] }, { Records: [{ eventSource: 'aws:s3' }] }, { version: '2.0' }])(
    'takes %j for a direct invoke',
    (event) => {
      expect(triggerOf(event)).toBe('direct')
    },
  )
})

describe('Function: isSqsEvent', () => {
  it('recognises a batch of SQS records and nothing that only looks like one', async () => {
    expect(isSqsEvent(await sharedEvent('sqs-batch'))).toBe(true)
    expect(isSqsEvent({ Records: [{ eventSource: 'aws:sns' }] })).toBe(false)
    expect(isSqsEvent({ Records: 'aws:sqs' })).toBe(false)
  })
})

describe('Function: parseJsonBody', () => {
  const http = (body: unknown, headers: Record<string, string> = {}) =>
    ({ version: '2.0', requestContext: { http: { method: 'POST' } }, headers, body }) as unknown as APIGatewayProxyEventV2

  it('parses a JSON body, and takes an absent or blank one for an empty request', () => {
    expect(parseJsonBody(http('{"codes":["a"]}'), 1024)).toEqual({ codes: ['a'] })
    expect(parseJsonBody(http(undefined), 1024)).toEqual({})
    expect(parseJsonBody(http('  '), 1024)).toEqual({})
  })

  it('decodes a base64 body, as API Gateway sends a binary one', () => {
    const event = { ...http(Buffer.from('{"force":true}').toString('base64')), isBase64Encoded: true }
    expect(parseJsonBody(event, 1024)).toEqual({ force: true })
  })

  it.each([
    ['a body declared as text', http('{}', { 'Content-Type': 'text/plain' }), 415, /^body must be JSON/],
    ['a body over the cap', http('x'.repeat(2000)), 413, /^body must be at most 1024 bytes$/],
    ['a body that is not JSON', http('{'), 400, /^body must be valid JSON$/],
    ['a body that is not a string', http(7), 400, /^body must be a string holding JSON$/],
  ])('refuses %s with %i', (_, event, statusCode, message) => {
    let caught: unknown
    try {
      parseJsonBody(event, 1024)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ClientError)
    expect(caught).toMatchObject({ statusCode, message: expect.stringMatching(message) as string })
    if (statusCode === 400) expect(caught).toBeInstanceOf(ValidationError)
  })
})
