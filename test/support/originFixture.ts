import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How the fixture answers one image path. */
export interface OriginBehaviour {
  readonly status: number
  readonly body?: Buffer
  readonly contentType?: string
  /** Time before the answer, to keep requests in flight together. */
  readonly delayMs?: number
  /** Promise the whole body, send only this many bytes of it, then reset the connection. */
  readonly resetAfterBytes?: number
}

export interface OriginFixture {
  readonly baseUrl: string
  /** Requests received per path, in order of arrival. */
  readonly requests: string[]
  /** The most requests that were being answered at the same moment. */
  readonly maxInFlight: number
  /** TCP connections opened to the fixture. */
  readonly connections: number
  close(): Promise<void>
}

/**
 * A real HTTP origin on loopback. Paths in `routes` answer as described; any other path is 404.
 */
export async function startOrigin(routes: Record<string, OriginBehaviour>): Promise<OriginFixture> {
  const requests: string[] = []
  let inFlight = 0
  let maxInFlight = 0
  let connections = 0

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/'
    requests.push(path)
    inFlight += 1
    maxInFlight = Math.max(maxInFlight, inFlight)
    res.on('close', () => {
      inFlight -= 1
    })
    const behaviour = routes[path] ?? { status: 404, body: Buffer.from('not here') }
    const answer = () => {
      const headers: Record<string, string> = {}
      if (behaviour.contentType !== undefined) headers['content-type'] = behaviour.contentType
      if (behaviour.resetAfterBytes !== undefined && behaviour.body !== undefined) {
        headers['content-length'] = String(behaviour.body.length)
        res.writeHead(behaviour.status, headers)
        res.write(behaviour.body.subarray(0, behaviour.resetAfterBytes), () => res.destroy())
        return
      }
      res.writeHead(behaviour.status, headers)
      res.end(behaviour.body)
    }
    if (behaviour.delayMs === undefined) answer()
    else setTimeout(answer, behaviour.delayMs)
  })
  server.on('connection', () => {
    connections += 1
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight
    },
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

/** Bytes that start like a JPEG, distinct per seed, so stored objects can be told apart. */
export function jpegBytes(seed: number, size = 2048): Buffer {
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + seed * 17) % 256
  bytes.set([0xff, 0xd8, 0xff, 0xe0], 0)
  return bytes
}
