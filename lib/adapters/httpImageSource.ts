import { Readable } from 'node:stream'
import { Agent, request, type Dispatcher } from 'undici'
import type { OriginTimeouts } from '../config.ts'
import { TransportError, type ImageSource, type TransportFailure } from '../download/ports.ts'

// Enough to read a typical error page so the connection can be reused; larger ones are cut off.
const DISCARD_LIMIT_BYTES = 128 * 1024

/**
 * A keep-alive connection pool for origins, built once per container and shared by invocations.
 * Its timeouts bound every attempt: connecting, waiting for headers, and silence within a body.
 */
export function createOriginAgent(timeouts: OriginTimeouts): Agent {
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: timeouts.connectTimeoutMs },
    headersTimeout: timeouts.headersTimeoutMs,
    bodyTimeout: timeouts.bodyTimeoutMs,
  })
}

/** An ImageSource that GETs images over HTTP(S) through the given pool, streaming the body. */
export function httpImageSource(dispatcher: Dispatcher): ImageSource {
  return {
    async get({ url, signal, validators }) {
      const headers: Record<string, string> = { accept: 'image/*' }
      if (validators?.etag !== undefined) headers['if-none-match'] = validators.etag
      if (validators?.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified

      let response: Dispatcher.ResponseData
      try {
        response = await request(url, { method: 'GET', dispatcher, signal, headers })
      } catch (error) {
        throw asTransportError(error, 'headers')
      }
      const { statusCode, headers: answer, body } = response
      const contentLength = Number(header(answer, 'content-length'))
      return {
        status: statusCode,
        headers: {
          ...(Number.isSafeInteger(contentLength) && contentLength >= 0 ? { contentLength } : {}),
          ...optional('etag', header(answer, 'etag')),
          ...optional('lastModified', header(answer, 'last-modified')),
          ...optional('retryAfter', header(answer, 'retry-after')),
        },
        body: Readable.from(withTransportErrors(body), { objectMode: false }),
        discard: () => body.dump({ limit: DISCARD_LIMIT_BYTES }),
      }
    },
  }
}

async function* withTransportErrors(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* body
  } catch (error) {
    throw asTransportError(error, 'body')
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE'])
// The origin closed the connection cleanly but early: mid-body, the body is shorter than promised.
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'])

/** Names what went wrong with the connection; an abort is passed on as it is. */
function asTransportError(error: unknown, phase: 'headers' | 'body'): unknown {
  if (!(error instanceof Error) || error.name === 'AbortError') return error
  const code = (error as { code?: unknown }).code
  return new TransportError(transportFailure(typeof code === 'string' ? code : '', phase), error.message, {
    cause: error,
  })
}

function transportFailure(code: string, phase: 'headers' | 'body'): TransportFailure {
  if (TIMEOUT_CODES.has(code)) return 'timeout'
  if (RESET_CODES.has(code)) return 'reset'
  if (CLOSED_CODES.has(code)) return phase === 'body' ? 'truncated' : 'reset'
  return 'network'
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}
