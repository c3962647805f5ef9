import httpRouterHandler from '@middy/http-router'
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { httpApiHandler } from '../lib/lambda/httpPages.ts'
import type { HttpResponse } from '../lib/lambda/responses.ts'
import { webRoutes } from '../lib/web/routes.ts'

export const handler = httpApiHandler(httpRouterHandler<APIGatewayProxyEventV2, HttpResponse>(webRoutes))
