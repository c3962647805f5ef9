import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns'
import { isIP, type LookupFunction } from 'node:net'
import { Readable } from 'node:stream'
import { Agent, buildConnector, request, type Dispatcher } from 'undici'
import { clip } from '../../download/failures.ts'
import { TransportError } from '../../download/errors.ts'
import type { ImageSource, TransportFailure } from '../../download/ports.ts'
import { addressProblem, bareHost, refusedAddress, urlProblem, type OriginPolicy } from '../../security/originPolicy.ts'

/** How long an origin may take, per attempt, before the attempt fails as `timeout`. */
export interface OriginTimeouts {
  /** To open the TCP (and TLS) connection. */
  readonly connectTimeoutMs: number
  /** From sending the request to having all response headers. */
  readonly headersTimeoutMs: number
  /** The longest silence between two chunks of the body. */
  readonly bodyTimeoutMs: number
}

// Enough to read a typical error page so the connection can be reused; larger ones are cut off.
const DISCARD_LIMIT_BYTES = 128 * 1024
export const MAX_REDIRECTS = 3
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

/** dns.lookup's shape, with every address at once: what the guard resolves through. */
export type LookupAll = (hostname: string, options: LookupAllOptions, callback: (error: Error | null, addresses: LookupAddress[]) => void) => void

/**
 * A keep-alive connection pool for origins, built once per container and shared by invocations.
 * Its timeouts bound every attempt: connecting, waiting for headers, and silence within a body.
 * Every connection it opens, redirects included, goes only to an address the policy accepts:
 * the address is checked after resolution, on the very address the socket connects to.
 */
export function createOriginAgent(
  timeouts: OriginTimeouts,
  policy: Pick<OriginPolicy, 'localOrigins'>,
  lookupAll: LookupAll = dnsLookup,
): Agent {
  const connector = buildConnector({ timeout: timeouts.connectTimeoutMs, lookup: guardedLookup(policy, lookupAll) })
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeouts.headersTimeoutMs,
    bodyTimeout: timeouts.bodyTimeoutMs,
    // An IP literal is connected to without a lookup, so it is checked here.
    connect: (options, callback) => {
      const host = bareHost(options.hostname)
      const refused = isIP(host) === 0 ? undefined : addressProblem(host, policy)
      if (refused !== undefined) return callback(new TransportError('blocked', `refused to connect: ${refused}`), null)
      connector(options, callback)
    },
  })
}

/** A socket lookup that resolves every address of a host and refuses the host if any is not allowed. */
function guardedLookup(policy: Pick<OriginPolicy, 'localOrigins'>, lookupAll: LookupAll): LookupFunction {
  return (hostname, options, callback) => {
    lookupAll(hostname, { ...options, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, '', 0)
      const refused = refusedAddress(addresses.map(({ address }) => address), policy)
      if (refused !== undefined) {
        const reason = `refused to connect: ${hostname} resolves to a non-public address: ${refused}`
        return callback(new TransportError('blocked', reason), '', 0)
      }
      if (options.all === true) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
      const first = addresses[0]
      if (first === undefined) return callback(new TransportError('network', `${hostname} has no address`), '', 0)
      callback(null, first.address, first.family)
    })
  }
}

/**
 * An ImageSource that GETs images over HTTP(S) through the given pool, streaming the body. It
 * follows up to MAX_REDIRECTS redirects, each to a URL the policy accepts.
 */
export function httpImageSource(dispatcher: Dispatcher, policy: OriginPolicy): ImageSource {
  return {
    async get({ url, signal, validators }) {
      const headers: Record<string, string> = { accept: 'image/*' }
      if (validators?.etag !== undefined) headers['if-none-match'] = validators.etag
      if (validators?.lastModified !== undefined) headers['if-modified-since'] = validators.lastModified

      let response: Dispatcher.ResponseData
      let target = new URL(url)
      for (let redirects = 0; ; redirects += 1) {
        try {
          response = await request(target.href, { method: 'GET', dispatcher, signal, headers })
        } catch (error) {
          throw transportErrorOf(error, 'headers')
        }
        const location = header(response.headers, 'location')
        if (!REDIRECT_STATUSES.has(response.statusCode) || location === undefined) break
        await response.body.dump({ limit: DISCARD_LIMIT_BYTES }).catch(() => undefined)
        if (redirects === MAX_REDIRECTS) throw new TransportError('blocked', `more than ${MAX_REDIRECTS} redirects`)
        const next = URL.parse(location, target.href)
        const refused = next === null ? 'not a URL' : urlProblem(next, policy)
        if (next === null || refused !== undefined) {
          throw new TransportError('blocked', `redirect to ${redirectTarget(next, location)} refused: ${refused}`)
        }
        target = next
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
        body: closingWith(body),
        discard: () => body.dump({ limit: DISCARD_LIMIT_BYTES }),
      }
    },
  }
}

/**
 * The body as a stream whose errors are TransportErrors. Destroying it destroys undici's body too:
 * a body refused before it is read (too large by its Content-Length) must not keep the request,
 * and its connection, open behind the slot it gave up.
 */
function closingWith(body: Dispatcher.ResponseData['body']): Readable {
  const stream = Readable.from(withTransportErrors(body), { objectMode: false })
  stream.once('close', () => body.destroy())
  return stream
}

async function* withTransportErrors(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* body
  } catch (error) {
    throw transportErrorOf(error, 'body')
  }
}

// Enough of a redirect target to recognise it; a hostile origin may send kilobytes.
const MAX_ECHOED_TARGET = 100

/** A redirect target as a message names it: scheme and host (a `file:` URL has no origin), cut short. */
function redirectTarget(next: URL | null, location: string): string {
  const shown = next === null ? JSON.stringify(location) : next.origin === 'null' ? `${next.protocol}//${next.host}` : next.origin
  return clip(shown, MAX_ECHOED_TARGET)
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT'])
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE'])
// The origin closed the connection cleanly but early: mid-body, the body is shorter than promised.
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'])

/** Names what went wrong with an undici request or body, in the engine's words; an abort is passed on as it is. */
export function transportErrorOf(error: unknown, phase: 'headers' | 'body'): unknown {
  if (!(error instanceof Error) || error.name === 'AbortError' || error instanceof TransportError) return error
  // The guard's refusal reaches here wrapped by the socket or the connector.
  if (error.cause instanceof TransportError) return error.cause
  const code = (error as { code?: unknown }).code
  return new TransportError(transportFailure(typeof code === 'string' ? code : '', phase, error.message), error.message, {
    cause: error,
  })
}

// undici's words for an answer that breaks HTTP: an unrequested 100 Continue or upgrade, or bytes
// its parser cannot read. RFC 9110 asks a client to skip a stray 1xx; undici refuses it instead.
const BAD_RESPONSE_MESSAGES = new Set(['bad response', 'bad upgrade'])

function transportFailure(code: string, phase: 'headers' | 'body', message: string): TransportFailure {
  if (code.startsWith('HPE_') || (code === 'UND_ERR_SOCKET' && BAD_RESPONSE_MESSAGES.has(message))) return 'bad_response'
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
