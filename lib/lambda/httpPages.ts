import middy from '@middy/core'
import httpSecurityHeaders from '@middy/http-security-headers'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { jsonErrors } from './errorResponses.ts'
import type { HttpResponse } from './responses.ts'

// Kept apart from the multi-trigger glue so that only the web function bundles the page headers.

type HttpRouteHandler = (event: APIGatewayProxyEventV2, context: Context) => HttpResponse | Promise<HttpResponse>

/**
 * Browser-facing security headers (helmet's set, via middy), with a Content-Security-Policy that
 * lets the pages load nothing at all: they are plain HTML with no scripts, styles or images.
 */
function pageSecurityHeaders() {
  return httpSecurityHeaders({
    contentSecurityPolicy: { 'default-src': "'none'", 'report-to': '' },
    reportTo: false,
  })
}

/** Wraps a handler that serves only API Gateway HTTP API routes. */
export function httpApiHandler(handler: HttpRouteHandler) {
  // Security headers go on last so that they apply to error responses too.
  return middy<APIGatewayProxyEventV2, HttpResponse>(handler).use(pageSecurityHeaders()).use(jsonErrors())
}

