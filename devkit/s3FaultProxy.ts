import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import { listen } from './faultyNetwork.ts'

/** What the proxy does with one S3 request. */
export type S3Fault =
  | { readonly kind: 'pass' }
  /** Forwards the request after a delay. */
  | { readonly kind: 'delay'; readonly ms: number }
  /**
   * Forwards the request at once and holds S3's answer for `ms`: a request S3 has carried out, whose
   * answer its client may have given up on by the time it comes.
   */
  | { readonly kind: 'answerLate'; readonly ms: number }
  /** Reads the request and never answers. */
  | { readonly kind: 'stall' }
  /**
   * Answers with an S3 error of this status, without forwarding: S3's error code (ServiceUnavailable
   * unless given), and the Date header of a server whose clock reads `date`.
   */
  | { readonly kind: 'status'; readonly status: number; readonly code?: string; readonly date?: Date }

/** One request as the proxy saw it: method, path and query, headers, and the fault it met. */
export interface ProxiedRequest {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly fault: S3Fault['kind']
}

export interface S3FaultProxy {
  readonly endpoint: string
  readonly requests: readonly ProxiedRequest[]
  close(): Promise<void>
}

export const pass: S3Fault = { kind: 'pass' }

/** Whether a request uploads a body: a PutObject or an UploadPart, the only PUTs the sink sends. */
export function isUpload(method: string): boolean {
  return method === 'PUT'
}

/**
 * An HTTP proxy in front of a local S3 server that can slow, stall or fail chosen requests, as an
 * overloaded or broken S3 would. `decide` sees each request in order of arrival. With
 * `clockOffsetMs`, the answers it passes on carry the Date of a server whose clock is that far off.
 */
export async function startS3FaultProxy(
  targetEndpoint: string,
  decide: (method: string, url: string, index: number, headers: IncomingHttpHeaders) => S3Fault,
  { clockOffsetMs = 0 }: { readonly clockOffsetMs?: number } = {},
): Promise<S3FaultProxy> {
  const target = new URL(targetEndpoint)
  const requests: ProxiedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()

  const later = (ms: number, then: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      then()
    }, ms)
    timers.add(timer)
  }

  const forward = (req: IncomingMessage, res: ServerResponse, holdAnswerMs = 0) => {
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const relay = () => {
          if (res.destroyed) return void answer.resume()
          // An S3 whose clock is off says so in the Date of every answer.
          const date = clockOffsetMs === 0 ? {} : { date: new Date(Date.now() + clockOffsetMs).toUTCString() }
          res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...date })
          answer.pipe(res)
        }
        if (holdAnswerMs === 0) relay()
        else later(holdAnswerMs, relay)
      },
    )
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  }

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET'
    const url = req.url ?? '/'
    const fault = decide(method, url, requests.length, req.headers)
    requests.push({ method, url, headers: req.headers, fault: fault.kind })
    if (fault.kind === 'pass') return forward(req, res)
    if (fault.kind === 'answerLate') return forward(req, res, fault.ms)
    if (fault.kind === 'delay') return later(fault.ms, () => forward(req, res))
    req.resume()
    if (fault.kind === 'stall') return
    req.on('end', () => {
      res.writeHead(fault.status, { 'content-type': 'application/xml', ...(fault.date === undefined ? {} : { date: fault.date.toUTCString() }) })
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code ?? 'ServiceUnavailable'}</Code><Message>injected ${fault.status}</Message></Error>`)
    })
  })
  const fixture = await listen(server)
  return {
    endpoint: `http://127.0.0.1:${fixture.port}`,
    requests,
    close: () => {
      for (const timer of timers) clearTimeout(timer)
      return fixture.close()
    },
  }
}
