import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request as the origin saw it. */
export interface OriginRequest {
  readonly path: string
  readonly headers: IncomingHttpHeaders
  /** performance.now() when it arrived. */
  readonly atMs: number
}

/** What an origin path does; `hit` counts the requests to that path, from 1. */
export type Behaviour = (res: ServerResponse, req: IncomingMessage, hit: number, later: Later) => void

/** setTimeout whose timers the fixture clears when it closes, so no stall outlives a test. */
type Later = (ms: number, then: () => void) => void

export interface OriginFixture {
  readonly baseUrl: string
  /** Paths requested, in order of arrival. */
  readonly requests: string[]
  readonly log: OriginRequest[]
  /** The most requests that were being answered at the same moment. */
  readonly maxInFlight: number
  /** TCP connections opened to the fixture. */
  readonly connections: number
  close(): Promise<void>
}

/** A real HTTP origin on loopback. Paths in `routes` behave as given; any other path is 404. */
export async function startOrigin(routes: Record<string, Behaviour>): Promise<OriginFixture> {
  const requests: string[] = []
  const log: OriginRequest[] = []
  const hits = new Map<string, number>()
  const timers = new Set<NodeJS.Timeout>()
  let inFlight = 0
  let maxInFlight = 0
  let connections = 0
  const later: Later = (ms, then) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      then()
    }, ms)
    timers.add(timer)
  }

  const server = createServer((req, res) => {
    const path = req.url ?? '/'
    requests.push(path)
    log.push({ path, headers: req.headers, atMs: performance.now() })
    const hit = (hits.get(path) ?? 0) + 1
    hits.set(path, hit)
    inFlight += 1
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.on('close', () => {
      inFlight -= 1
    })
    const behaviour = routes[path] ?? status(404, 'not here')
    behaviour(res, req, hit, later)
  })
  server.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    log,
    get maxInFlight() {
      return maxInFlight
    },
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer)
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

/** 200 with the image, its length (unless `chunked`), and optional validators; after `delayMs` if given. */
export function image(
  body: Buffer,
  options: { contentType?: string; delayMs?: number; etag?: string; lastModified?: string; chunked?: boolean } = {},
): Behaviour {
  return (res, _req, _hit, later) => {
    const answer = () => {
      res.writeHead(200, {
        'content-type': options.contentType ?? 'image/jpeg',
        ...(options.chunked === true ? {} : { 'content-length': String(body.length) }),
        ...(options.etag === undefined ? {} : { etag: options.etag }),
        ...(options.lastModified === undefined ? {} : { 'last-modified': options.lastModified }),
      })
      res.end(body)
    }
    if (options.delayMs === undefined) answer()
    else later(options.delayMs, answer)
  }
}

/** A plain answer with any status and headers. */
export function status(code: number, body = '', headers: Record<string, string> = {}): Behaviour {
  return (res) => {
    res.writeHead(code, { 'content-type': 'text/plain', ...headers })
    res.end(body)
  }
}

/** The first `times` requests get `first`, the rest `then`: an origin that recovers. */
export function failThen(times: number, first: Behaviour, then: Behaviour): Behaviour {
  return (res, req, hit, later) => (hit <= times ? first : then)(res, req, hit, later)
}

/** Promises the whole body, sends `afterBytes` of it, then resets the connection (TCP RST). */
export function resetMidBody(body: Buffer, afterBytes: number): Behaviour {
  return (res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) })
    res.write(body.subarray(0, afterBytes), () => res.socket?.resetAndDestroy())
  }
}

/** Promises the whole body, sends `sentBytes` of it, then closes the connection cleanly (FIN). */
export function shortBody(body: Buffer, sentBytes: number): Behaviour {
  return (res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) })
    res.write(body.subarray(0, sentBytes), () => res.socket?.end())
  }
}

/** Sends nothing at all for `ms`, then behaves as `then`. */
export function stallHeaders(ms: number, then: Behaviour): Behaviour {
  return (res, req, hit, later) => later(ms, () => then(res, req, hit, later))
}

/** Sends the headers and `sentBytes` of the body, then goes silent until the client gives up. */
export function stallBody(body: Buffer, sentBytes: number): Behaviour {
  return (res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) })
    res.write(body.subarray(0, sentBytes))
  }
}

/**
 * Sends the first `headBytes` of the body at once (enough to be sniffed as an image), then one
 * byte every `everyMs`: never silent long enough for an idle timeout, and never done in time.
 */
export function dripBody(body: Buffer, everyMs: number, headBytes = 16): Behaviour {
  return (res, _req, _hit, later) => {
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(body.length) })
    res.write(body.subarray(0, headBytes))
    const drip = (sent: number) => {
      if (res.destroyed || sent >= body.length) return void res.end()
      res.write(body.subarray(sent, sent + 1))
      later(everyMs, () => drip(sent + 1))
    }
    later(everyMs, () => drip(headBytes))
  }
}

/** An HTML page served as a 200 "image". */
export function htmlPage(): Behaviour {
  return (res) => {
    const page = Buffer.from('<!doctype html><html><body>Sorry, no image here</body></html>')
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(page.length) })
    res.end(page)
  }
}

/**
 * A JPEG-looking body with no Content-Length that goes on until the client hangs up, or, so
 * that it always stops by itself, until `boundBytes` have been sent.
 */
export function endlessBody(boundBytes = 1024 ** 3): Behaviour {
  return (res) => {
    res.writeHead(200, { 'content-type': 'image/jpeg' })
    const chunk = jpegBytes(99, 64 * 1024)
    let sent = 0
    const pump = () => {
      while (!res.destroyed && sent < boundBytes) {
        sent += chunk.length
        if (!res.write(chunk)) return void res.once('drain', pump)
      }
      if (!res.destroyed) res.end()
    }
    pump()
  }
}

/**
 * An image with validators that answers 304 to a request whose If-None-Match or
 * If-Modified-Since shows the client already has this version.
 */
export function conditionalImage(body: Buffer, etag: string, lastModified: string): Behaviour {
  const full = image(body, { etag, lastModified })
  return (res, req, hit, later) => {
    const ifNoneMatch = req.headers['if-none-match']
    const ifModifiedSince = req.headers['if-modified-since']
    const current =
      ifNoneMatch !== undefined
        ? ifNoneMatch === etag
        : ifModifiedSince !== undefined && Date.parse(ifModifiedSince) >= Date.parse(lastModified)
    if (!current) return full(res, req, hit, later)
    res.writeHead(304, { etag, 'last-modified': lastModified })
    res.end()
  }
}

/** Bytes that start like a JPEG, distinct per seed, so stored objects can be told apart. */
export function jpegBytes(seed: number, size = 2048): Buffer {
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + seed * 17) % 256
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0)
  return bytes
}
