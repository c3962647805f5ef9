import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string }

/** An HTML response. */
export function htmlResponse(statusCode: number, body: string): HttpResponse {
  return { statusCode, headers: { 'content-type': 'text/html; charset=utf-8' }, body }
}

/** A JSON response. */
export function jsonResponse(statusCode: number, value: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) }
}
