import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda'

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string }

// The pages are the same for every visitor and change only with a deploy: short public caching.
const PAGE_CACHE_CONTROL = 'public, max-age=300'

// Pages of the bucket's contents carry URLs signed for minutes and data not everyone may see.
const PRIVATE_CACHE_CONTROL = 'private, no-store'

/** An HTML page; the security headers come from the web handler's middleware. */
export function htmlResponse(statusCode: number, body: string, { private: isPrivate = false }: { private?: boolean } = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': isPrivate ? PRIVATE_CACHE_CONTROL : PAGE_CACHE_CONTROL },
    body,
  }
}

/** A style sheet or script of the pages' own, the same for every visitor. */
export function assetResponse(contentType: string, body: string): HttpResponse {
  return { statusCode: 200, headers: { 'content-type': `${contentType}; charset=utf-8`, 'cache-control': PAGE_CACHE_CONTROL }, body }
}

/** A JSON response: an API answer about one request, never to be cached or sniffed as anything else. */
export function jsonResponse(statusCode: number, value: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', 'X-Content-Type-Options': 'nosniff' },
    body: JSON.stringify(value),
  }
}
