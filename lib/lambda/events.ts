import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { ClientError, ValidationError } from '../errors.ts'
import type { Trigger } from './invocation.ts'

/** Whether a Lambda event came from an API Gateway HTTP API (payload 2.0). */
export function isHttpApiEvent(event: unknown): event is APIGatewayProxyEventV2 {
  if (typeof event !== 'object' || event === null) return false
  const { version, requestContext } = event as Partial<APIGatewayProxyEventV2>
  return version === '2.0' && typeof requestContext?.http?.method === 'string'
}

/** Whether a Lambda event is an EventBridge schedule's event; its `detail` holds any request it carries. */
export function isScheduledEvent(event: unknown): event is { readonly id?: unknown; readonly detail?: unknown } {
  if (typeof event !== 'object' || event === null) return false
  const record = event as Record<string, unknown>
  return record['source'] === 'aws.events' && record['detail-type'] === 'Scheduled Event'
}

/** Whether a Lambda event is a batch of SQS messages, as an event source mapping delivers them. */
export function isSqsEvent(event: unknown): event is { readonly Records: readonly unknown[] } {
  if (typeof event !== 'object' || event === null) return false
  const { Records } = event as { Records?: unknown }
  return Array.isArray(Records) && Records.length > 0 && (Records[0] as { eventSource?: unknown }).eventSource === 'aws:sqs'
}

/** How a function was started, told from the shape of its event; anything unrecognised is a direct invoke. */
export function triggerOf(event: unknown): Trigger {
  if (isHttpApiEvent(event)) return 'http'
  if (isScheduledEvent(event)) return 'schedule'
  if (isSqsEvent(event)) return 'sqs'
  return 'direct'
}

/** A JSON media type: application/json or any `+json` type, with or without parameters. */
function isJsonMediaType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? ''
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType)
}

function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  // API Gateway HTTP APIs lower-case header names; a hand-made event may not.
  const entry = Object.entries(event.headers ?? {}).find(([key]) => key.toLowerCase() === name)
  const value: unknown = entry?.[1]
  if (value !== undefined && typeof value !== 'string') throw new ValidationError(`header ${name} must be a string, got ${kindOf(value)}`)
  return value
}

/** What a JSON value is, for a message: `null`, `an array`, `a string`… */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/**
 * A request as the core takes it: a JSON object. An absent one (no body, a blank body, an
 * invocation with no payload, which `serverless invoke local` sends as "") is the empty request;
 * `null`, a string, a number or an array is refused, never read as the empty request.
 */
export function requestObjectOf(value: unknown, what: 'body' | 'event' | 'detail'): Record<string, unknown> {
  if (value === undefined || value === '') return {}
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>
  throw new ValidationError(`${what} must be a JSON object, got ${kindOf(value)}`)
}

/**
 * The request body parsed as a JSON object; an absent or blank body is an empty request. A body
 * declared as anything but JSON is refused with 415, one over `maxBytes` with 413, before it is
 * parsed; JSON that is not an object with 400.
 */
export function parseJsonBody(event: APIGatewayProxyEventV2, maxBytes: number): Record<string, unknown> {
  const contentType = header(event, 'content-type')
  if (contentType !== undefined && contentType.trim() !== '' && !isJsonMediaType(contentType)) {
    throw new ClientError(415, `body must be JSON (Content-Type application/json), got "${contentType.slice(0, 60)}"`)
  }
  if (event.body === undefined || event.body === null) return {}
  // API Gateway always sends the body as a string; anything else is a hand-made event gone wrong.
  if (typeof event.body !== 'string') throw new ValidationError('body must be a string holding JSON')
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8')
  if (bytes.length > maxBytes) throw new ClientError(413, `body must be at most ${maxBytes} bytes`)
  const text = bytes.toString('utf8')
  if (text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ValidationError('body must be valid JSON', { cause: error })
  }
  // A body of JSON `""` is a string, not a blank body.
  if (parsed === '') throw new ValidationError('body must be a JSON object, got a string')
  return requestObjectOf(parsed, 'body')
}
