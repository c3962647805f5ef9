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
  return entry?.[1]
}

/**
 * The request body parsed as JSON; an absent or blank body is an empty request. A body declared
 * as anything but JSON is refused with 415, one over `maxBytes` with 413, before it is parsed.
 */
export function parseJsonBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
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
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ValidationError('body must be valid JSON', { cause: error })
  }
}
