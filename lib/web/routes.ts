import type { Route } from '@middy/http-router'
import type { APIGatewayProxyEventV2 } from 'aws-lambda'
import { assetResponse, htmlResponse, jsonResponse, type HttpResponse } from '../lambda/responses.ts'
import type { Gallery } from '../gallery/gallery.ts'
import { GALLERY_CSS, JOB_SCRIPT } from './assets.ts'
import { decodePathSegment, galleryPage, helloPage, indexPage, jobPage, jobsPage } from './pages.ts'

type WebRoute = Route<APIGatewayProxyEventV2, HttpResponse>

const privatePage = (body: string) => htmlResponse(200, body, { private: true })
const jobIdOf = (event: APIGatewayProxyEventV2) => decodePathSegment(event.pathParameters?.['jobId'] ?? '')

/** The web function's pages, as routes for @middy/http-router; the gallery's only where the stage serves it. */
export function webRoutes(gallery?: Gallery): WebRoute[] {
  const pages: WebRoute[] = [
    { method: 'GET', path: '/', handler: async () => htmlResponse(200, indexPage(gallery !== undefined)) },
    {
      method: 'GET',
      path: '/hello/{name}',
      handler: async (event: APIGatewayProxyEventV2) => htmlResponse(200, helloPage(decodePathSegment(event.pathParameters?.['name'] ?? ''))),
    },
  ]
  if (gallery === undefined) return pages
  return [
    ...pages,
    {
      method: 'GET',
      path: '/gallery',
      handler: async (event: APIGatewayProxyEventV2) =>
        privatePage(galleryPage(await gallery.page({ prefix: event.queryStringParameters?.['prefix'], next: event.queryStringParameters?.['next'] }))),
    },
    { method: 'GET', path: '/gallery/jobs', handler: async () => privatePage(jobsPage(await gallery.recentJobs())) },
    { method: 'GET', path: '/gallery/jobs/{jobId}', handler: async (event: APIGatewayProxyEventV2) => privatePage(jobPage(await gallery.job(jobIdOf(event)))) },
    // Asked every second by the job page: one item read. The failures only when their count changes.
    { method: 'GET', path: '/gallery/jobs/{jobId}/status', handler: async (event: APIGatewayProxyEventV2) => jsonResponse(200, await gallery.jobStatus(jobIdOf(event))) },
    { method: 'GET', path: '/gallery/jobs/{jobId}/failures', handler: async (event: APIGatewayProxyEventV2) => jsonResponse(200, await gallery.job(jobIdOf(event))) },
    { method: 'GET', path: '/gallery/assets/gallery.css', handler: async () => assetResponse('text/css', GALLERY_CSS) },
    { method: 'GET', path: '/gallery/assets/job.js', handler: async () => assetResponse('text/javascript', JOB_SCRIPT) },
  ]
}
