import middy from '@middy/core'
import httpSecurityHeaders from '@middy/http-security-headers'
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda'
import { jsonErrors } from './errorResponses.ts'
import type { Observability } from './observability.ts'
import type { HttpResponse } from './responses.ts'

// Kept apart from the multi-trigger glue so that only the web function bundles the page headers.

type HttpRouteHandler = (event: APIGatewayProxyEventV2, context: Context) => HttpResponse | Promise<HttpResponse>

/**
 * Browser-facing security headers (helmet's set, via middy), with a Content-Security-Policy that
 * lets the pages load nothing but their own style sheet and script, their status from the same
 * origin and, when they show images, images from `imageOrigin` (the bucket's presigned URLs).
 */
function pageSecurityHeaders(imageOrigin: string | undefined) {
  if (imageOrigin === undefined) return httpSecurityHeaders({ contentSecurityPolicy: { 'default-src': "'none'", 'report-to': '' }, reportTo: false })
  return httpSecurityHeaders({
    contentSecurityPolicy: {
      'default-src': "'none'",
      'img-src': imageOrigin,
      'style-src': "'self'",
      'script-src': "'self'",
      'connect-src': "'self'",
      'report-to': '',
      // helmet's sandbox would stop the job page's script; the local bucket is plain http, so only
      // an https one may have its requests upgraded.
      sandbox: false as unknown as string,
      'upgrade-insecure-requests': (imageOrigin.startsWith('https:') ? '' : false) as unknown as string,
    },
    // The bucket sends no Cross-Origin-Resource-Policy: its images load without credentials instead.
    crossOriginEmbedderPolicy: { policy: 'credentialless' },
    reportTo: false,
  })
}

/** What an HTTP API function's wrapper adds around its routes. */
export interface HttpApiOptions {
  /** Where the pages may load images from. */
  readonly imageOrigin?: string | undefined
  /** The function's logging, metrics and tracing, run around everything else. */
  readonly observability?: Observability
}

/** Wraps a handler that serves only API Gateway HTTP API routes. */
export function httpApiHandler(handler: HttpRouteHandler, { imageOrigin, observability }: HttpApiOptions = {}) {
  const wrapped = middy<APIGatewayProxyEventV2, HttpResponse>(handler)
  for (const middleware of observability?.middlewares ?? []) wrapped.use(middleware)
  // Security headers go on last so that they apply to error responses too.
  return wrapped.use(pageSecurityHeaders(imageOrigin)).use(jsonErrors())
}

