import type { MiddlewareObj } from '@middy/core'
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { isClientError } from '../errors.ts'
import { jsonResponse, type HttpResponse } from './responses.ts'
import { sourceMappedStack } from './sourceMappedStack.ts'

/** Where an unexpected failure is recorded, since its client only sees a bare 500. */
export type ReportUnexpected = (error: unknown) => void

const toConsole: ReportUnexpected = (error) => console.error(error)

/** Turns an error into the response a client may see: its own message for a 4xx, nothing else for the rest. */
export function errorResponse(error: unknown, reportUnexpected: ReportUnexpected = toConsole): HttpResponse {
  if (isClientError(error)) return jsonResponse(error.statusCode, { message: error.message })
  reportUnexpected(sourceMappedStack(error))
  return jsonResponse(500, { message: 'Internal Server Error' })
}

/** Answers every error of an HTTP handler as JSON `{message}`; no stack trace reaches a client. */
export function jsonErrors(): MiddlewareObj<APIGatewayProxyEventV2, HttpResponse> {
  return {
    name: 'jsonErrors',
    onError: (request) => {
      if (request.response !== undefined && request.response !== null) return
      request.response = errorResponse(request.error)
    },
  }
}
