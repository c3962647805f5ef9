// `npm run sample-origin`: a stand-in image server on 127.0.0.1:8701 (IMGPULL_SAMPLE_ORIGIN_PORT)
// for trying imgpull locally. Every /NAME.jpg answers a tiny JPEG, except names starting with
// "error" or "missing", which are 404. The JPEG has an ETag, so a second download of it is
// answered 304 Not Modified.
import { createServer } from 'node:http'
import { isAddressInUse, onStopSignal, portInUseMessage } from './processes.ts'

const PORT = Number(process.env['IMGPULL_SAMPLE_ORIGIN_PORT'] ?? 8701)
// A 1x1 pixel JPEG.
const PIXEL = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
)

const ETAG = '"pixel-v1"'

const server = createServer((req, res) => {
  const name = /^\/([^/]+)\.jpg$/.exec(req.url ?? '')?.[1]
  if (req.method !== 'GET' || name === undefined || /^(error|missing)/.test(name)) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
    return
  }
  if (req.headers['if-none-match'] === ETAG) {
    res.writeHead(304, { etag: ETAG }).end()
    return
  }
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': PIXEL.length, etag: ETAG }).end(PIXEL)
})

server.on('error', (error) => {
  console.error(isAddressInUse(error) ? portInUseMessage({ port: PORT, what: 'sample origin' }, 'move it with IMGPULL_SAMPLE_ORIGIN_PORT') : String(error))
  process.exit(1)
})
server.listen(PORT, '127.0.0.1', () => console.log(`sample origin on http://127.0.0.1:${PORT}`))
onStopSignal(
  () =>
    new Promise((resolve) => {
      // Keep-alive connections would hold close() open; they are the caller's to retry.
      server.closeAllConnections()
      server.close(() => resolve(0))
    }),
)
