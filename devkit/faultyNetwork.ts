import { connect, createServer, type Server, type Socket } from 'node:net'

export interface TcpFixture {
  readonly port: number
  /** Connections accepted so far. */
  readonly connections: number
  close(): Promise<void>
}

/** Listens on a free loopback port, counting connections; close() destroys them all first. */
export async function listen(server: Server, sockets: Set<Socket> = new Set()): Promise<TcpFixture> {
  let connections = 0
  server.on('connection', (socket) => {
    connections += 1
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return {
    port: address.port,
    get connections() {
      return connections
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** Accepts TCP connections and never says a word: a TLS handshake to it never completes. */
export async function startSilentServer(): Promise<TcpFixture> {
  const sockets = new Set<Socket>()
  return listen(
    createServer((socket) => socket.on('error', () => undefined)),
    sockets,
  )
}

/**
 * Forwards TCP to `targetPort`, but resets any connection whose client has sent more than
 * `resetAfterBytes`: small requests pass, uploads of a body break mid-way.
 */
export async function startResettingProxy(targetPort: number, resetAfterBytes: number): Promise<TcpFixture> {
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(upstream)
    let sent = 0
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length
      if (sent > resetAfterBytes) {
        client.resetAndDestroy()
        upstream.destroy()
        return
      }
      upstream.write(chunk)
    })
    upstream.pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => {
      sockets.delete(upstream)
      client.destroy()
    })
  })
  return listen(server, sockets)
}

/** Answers every request on a connection with the same raw bytes, however far they stray from HTTP. */
export async function startRawOrigin(answer: Buffer): Promise<TcpFixture & { readonly baseUrl: string }> {
  const sockets = new Set<Socket>()
  const fixture = await listen(
    createServer((socket) => {
      socket.on('error', () => undefined)
      socket.on('data', () => socket.write(answer))
    }),
    sockets,
  )
  return Object.assign(fixture, { baseUrl: `http://127.0.0.1:${fixture.port}` })
}
