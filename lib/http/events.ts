import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { ValidationError } from '../errors.ts'

/** Whether a Lambda event came from an API Gateway HTTP API (payload 2.0). */
export function isHttpApiEvent(event: unknown): event is APIGatewayProxyEventV2 {
  if (typeof event !== 'object' || event === null) return false
  const { version, requestContext } = event as Partial<APIGatewayProxyEventV2>
  return version === '2.0' && typeof requestContext?.http?.method === 'string'
}

/** Whether a Lambda event is an EventBridge schedule's own event (a rule without `input`). */
export function isScheduledEvent(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false
  const record = event as Record<string, unknown>
  return record['source'] === 'aws.events' && record['detail-type'] === 'Scheduled Event'
}

/** The request body parsed as JSON; an absent or blank body is an empty request. */
export function parseJsonBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null) return {}
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body
  if (text.trim() === '') return {}
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new ValidationError('body must be valid JSON', { cause: error })
  }
}
