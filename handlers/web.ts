import httpRouterHandler from '@middy/http-router'
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { loadWebConfig } from '../lib/config/web.ts'
import { httpApiHandler } from '../lib/lambda/httpPages.ts'
import type { HttpResponse } from '../lib/lambda/responses.ts'
import { webRoutes } from '../lib/web/routes.ts'
import { lazyGallery } from '../lib/wiring/lazyGallery.ts'

// Built once per container: the gallery only where the stage serves it.
const { gallery: galleryConfig, imageOrigin } = loadWebConfig()
const gallery = galleryConfig === undefined ? undefined : lazyGallery(galleryConfig)

export const handler = httpApiHandler(httpRouterHandler<APIGatewayProxyEventV2, HttpResponse>(webRoutes(gallery)), { imageOrigin })
