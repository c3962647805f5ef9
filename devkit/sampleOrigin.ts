import { createServer, type Server } from 'node:http'

/** A 1x1 pixel JPEG: a real image, which a browser decodes. */
export const SAMPLE_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
)

const ETAG = '"pixel-v1"'

/** Where `npm run sample-origin` listens unless IMGPULL_SAMPLE_ORIGIN_PORT says otherwise. */
export const SAMPLE_ORIGIN_PORT = 8701

/**
 * A stand-in image server for trying imgpull locally. Every /NAME.jpg answers a tiny JPEG, except
 * names starting with "error" or "missing", which are 404. The JPEG has an ETag, so a second
 * download of it is answered 304 Not Modified.
 */
export function sampleOriginServer(): Server {
  return createServer((req, res) => {
    const name = /^\/([^/]+)\.jpg$/.exec(req.url ?? '')?.[1]
    if (req.method !== 'GET' || name === undefined || /^(error|missing)/.test(name)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    if (req.headers['if-none-match'] === ETAG) {
      res.writeHead(304, { etag: ETAG }).end()
      return
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': SAMPLE_JPEG.length, etag: ETAG }).end(SAMPLE_JPEG)
  })
}
