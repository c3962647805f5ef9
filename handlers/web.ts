import httpRouterHandler from '@middy/http-router'
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { decodePathSegment, helloPage, indexPage } from '../lib/html.ts'
import { htmlResponse, type HttpResponse } from '../lib/http/responses.ts'
import { httpApiHandler } from '../lib/http/pageHandler.ts'

export const handler = httpApiHandler(
  httpRouterHandler<APIGatewayProxyEventV2, HttpResponse>([
    { method: 'GET', path: '/', handler: async () => htmlResponse(200, indexPage()) },
    {
      method: 'GET',
      path: '/hello/{name}',
      handler: async (event: APIGatewayProxyEventV2) =>
        htmlResponse(200, helloPage(decodePathSegment(event.pathParameters?.['name'] ?? ''))),
    },
  ]),
)
