import type { Route } from '@middy/http-router'
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { htmlResponse, type HttpResponse } from '../lambda/responses.ts'
import { decodePathSegment, helloPage, indexPage } from './pages.ts'

/** The web function's pages, as routes for @middy/http-router. */
export const webRoutes: Route<APIGatewayProxyEventV2, HttpResponse>[] = [
  { method: 'GET', path: '/', handler: async () => htmlResponse(200, indexPage()) },
  {
    method: 'GET',
    path: '/hello/{name}',
    handler: async (event: APIGatewayProxyEventV2) =>
      htmlResponse(200, helloPage(decodePathSegment(event.pathParameters?.['name'] ?? ''))),
  },
]
