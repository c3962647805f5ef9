import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { getEndpointFromInstructions } from '@smithy/core/endpoints'
import type { Checksum, RetryErrorInfo, RetryErrorType, RetryStrategyV2, RetryToken, SourceData } from '@smithy/types'
import { SignatureV4 } from '@smithy/signature-v4'
import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import { ImgpullError } from '../../errors.ts'

/**
 * The two requests every image makes, HEAD and a single-part PUT, signed and sent over one
 * undici pool rather than through the SDK's general request pipeline, which costs about 0.5 ms of
 * CPU per request (serialisation, endpoint rules, middleware) against ~0.15 ms here. Everything
 * that matters is still the SDK's own, taken from the configured client: the credential chain
 * (memoised, refreshed before expiry), the region and endpoint rules, the standard retry strategy
 * with its retry quota, and the clock-skew offset it keeps.
 */
export interface SignedS3Requests {
  /** The headers of the object under `key`, or undefined when there is none (404, or 403 without s3:ListBucket). */
  head(key: string, signal: AbortSignal): Promise<Record<string, string> | undefined>
  /** Stores `body` under `key` in one PUT with these headers (Content-Type, checksums, metadata). */
  put(key: string, body: Buffer, headers: Record<string, string>, signal: AbortSignal): Promise<void>
  close(): Promise<void>
}

/** How long S3 may take to connect, and to answer once a request is sent. */
export interface SignedS3Timeouts {
  readonly connect: number
  readonly request: number
}

/** What S3 answered to a failed request; `status` is undefined for a connection that failed. */
export interface S3Answer {
  readonly status?: number | undefined
  /** S3's error code, from the error document of a request that has a body. */
  readonly code?: string | undefined
  /** The raw `Retry-After` value. */
  readonly retryAfter?: string | undefined
  /** Whether S3's Date showed our clock off by minutes, and the signing offset was corrected. */
  readonly clockCorrected?: boolean
}

/** An S3 request that failed, with what S3 answered. */
export class S3RequestError extends ImgpullError {
  override readonly name = 'S3RequestError'
  readonly answer: S3Answer

  constructor(answer: S3Answer, message: string, options?: ErrorOptions) {
    super(message, options)
    this.answer = answer
  }
}

/** Where the bucket is and how requests to it are signed: resolved once, on first use. */
interface Target {
  readonly pool: Pool
  readonly host: string
  readonly protocol: string
  readonly hostname: string
  readonly port: number | undefined
  /** The URL path of the bucket's root, '' for a virtual-hosted bucket. */
  readonly bucketPath: string
  /** Headers a configured endpoint asks every request to carry. */
  readonly endpointHeaders: Record<string, string>
  readonly signer: SignatureV4
}

// The hash of an empty payload, the one every HEAD signs.
const EMPTY_PAYLOAD_SHA256 = createHash('sha256').digest('hex')
// S3 error codes, as the SDK's retry classification has them.
const THROTTLING_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'BandwidthLimitExceeded'])
const TRANSIENT_CODES = new Set(['RequestTimeout', 'RequestTimeoutException', 'InternalError'])
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504])
const CLOCK_SKEW_CODES = new Set(['RequestTimeTooSkewed', 'RequestExpired', 'RequestInTheFuture', 'SignatureDoesNotMatch', 'InvalidSignatureException'])
// The SDK corrects its clock offset when S3's Date differs from it by this much.
const CLOCK_SKEW_MS = 300_000
// An S3 error document is a few hundred bytes; more is not read.
const MAX_ERROR_BODY_CHARACTERS = 4096

/** HEAD and PUT for one bucket, through the configured client's credentials, endpoint rules and retry strategy. */
export function signedS3Requests(client: S3Client, bucket: string, timeouts: SignedS3Timeouts): SignedS3Requests {
  const config = client.config
  let target: Promise<Target> | undefined
  const targetOf = () => (target ??= resolveTarget(client, bucket, timeouts))

  /** One signed request and its answer; S3 errors and failed connections throw an S3RequestError. */
  async function once(method: 'HEAD' | 'PUT', key: string, body: Buffer | undefined, headers: Record<string, string>, signal: AbortSignal) {
    const { pool, host, protocol, hostname, port, bucketPath, endpointHeaders, signer } = await targetOf()
    const path = `${bucketPath}/${encodeKey(key)}`
    const offsetAtSigning = config.systemClockOffset
    const signed = await signer.sign(
      { method, protocol, hostname, ...(port === undefined ? {} : { port }), path, query: {}, headers: { ...endpointHeaders, ...headers, host } },
      { signingDate: new Date(Date.now() + offsetAtSigning) },
    )
    let response: Awaited<ReturnType<Pool['request']>>
    try {
      response = await pool.request({ method, path, headers: signed.headers, body: body ?? null, signal })
    } catch (error) {
      if (signal.aborted) throw error
      throw new S3RequestError({}, `${method} ${key}: ${(error as Error).message}`, { cause: error })
    }
    const { statusCode: status } = response
    const answered = flatHeaders(response.headers)
    // Skewed if this answer corrects the clock, or another one did while this request was out.
    const clockCorrected = correctClock(client, answered['date']) || config.systemClockOffset !== offsetAtSigning
    if (status < 300) {
      await response.body.dump()
      return answered
    }
    const text = method === 'HEAD' ? '' : (await response.body.text()).slice(0, MAX_ERROR_BODY_CHARACTERS)
    if (method === 'HEAD') await response.body.dump()
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1]
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1]
    const said = `${code === undefined ? '' : ` ${code}`}${message === undefined ? '' : `: ${message}`}`
    throw new S3RequestError({ status, code, retryAfter: answered['retry-after'], clockCorrected }, `${method} ${key}: HTTP ${status}${said}`)
  }

  /** A request with the client's retry strategy: what it would retry is retried, with its backoff and quota. */
  async function withRetries<T>(send: () => Promise<T>, signal: AbortSignal): Promise<T> {
    const strategy = (await config.retryStrategy()) as RetryStrategyV2
    let token: RetryToken = await strategy.acquireInitialRetryToken('s3')
    for (;;) {
      try {
        const result = await send()
        strategy.recordSuccess(token)
        return result
      } catch (error) {
        if (signal.aborted || !(error instanceof S3RequestError)) throw error
        try {
          token = await untilAborted(strategy.refreshRetryTokenForRetry(token, retryErrorInfo(error)), signal)
          // This strategy waits out its backoff itself and hands back a token of no delay; one that
          // leaves the wait to its caller gets it here.
          await sleep(token.getRetryDelay(), undefined, { signal })
        } catch {
          if (signal.aborted) throw signal.reason as Error
          throw error
        }
      }
    }
  }

  return {
    async head(key, signal) {
      const headers = { 'x-amz-content-sha256': EMPTY_PAYLOAD_SHA256 }
      try {
        return await withRetries(() => once('HEAD', key, undefined, headers, signal), signal)
      } catch (error) {
        if (error instanceof S3RequestError && (error.answer.status === 404 || error.answer.status === 403)) return undefined
        throw error
      }
    },

    async put(key, body, headers, signal) {
      const signedHeaders = {
        ...headers,
        'content-length': String(body.length),
        'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
      }
      await withRetries(() => once('PUT', key, body, signedHeaders, signal), signal)
    },

    async close() {
      if (target !== undefined) await (await target.catch(() => undefined))?.pool.close()
    },
  }
}

async function resolveTarget(client: S3Client, bucket: string, timeouts: SignedS3Timeouts): Promise<Target> {
  const config = client.config
  // As the SDK resolves a HEAD of this bucket: its endpoint rules, and an endpoint configured in
  // the environment or the profile (AWS_ENDPOINT_URL_S3) as well as in the client.
  const resolved = await getEndpointFromInstructions({ Bucket: bucket, Key: 'key' }, HeadObjectCommand, config)
  const scheme = (resolved.properties?.['authSchemes'] as { name?: string; signingName?: string; signingRegion?: string }[] | undefined)?.[0]
  if (scheme?.name !== 'sigv4') {
    throw new Error(`bucket ${bucket}: its endpoint is signed with ${scheme?.name ?? 'an unknown scheme'}; imgpull stores into general-purpose buckets (SigV4)`)
  }
  const region = await config.region()
  const url = resolved.url
  const endpointHeaders = Object.fromEntries(Object.entries(resolved.headers ?? {}).map(([name, values]) => [name.toLowerCase(), values.join(',')]))
  return {
    pool: new Pool(url.origin, {
      connectTimeout: timeouts.connect,
      headersTimeout: timeouts.request,
      bodyTimeout: timeouts.request,
    }),
    host: url.host,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    bucketPath: url.pathname.replace(/\/$/, ''),
    endpointHeaders,
    signer: new SignatureV4({
      credentials: config.credentials,
      region: scheme.signingRegion ?? region,
      service: scheme.signingName ?? 's3',
      sha256: KeyCachingSha256,
      // S3 signs the path as sent, not encoded twice.
      uriEscapePath: false,
      applyChecksum: false,
    }),
  }
}

/** A key as a URL path: each segment escaped as S3 expects (RFC 3986), slashes kept. */
function encodeKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/')
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
  }
  return flat
}

/** As the SDK does: when S3's clock and ours (with the offset) differ by minutes, the offset follows S3's. */
function correctClock(client: S3Client, serverDate: string | undefined): boolean {
  if (serverDate === undefined) return false
  const serverMs = Date.parse(serverDate)
  if (Number.isNaN(serverMs)) return false
  const offset = client.config.systemClockOffset
  if (Math.abs(Date.now() + offset - serverMs) < CLOCK_SKEW_MS) return false
  client.config.systemClockOffset = serverMs - Date.now()
  return true
}

/** What the SDK's retry strategy needs to know of an error, classified as the SDK classifies its own. */
function retryErrorInfo({ answer }: S3RequestError): RetryErrorInfo {
  const { status, code } = answer
  // A HEAD has no error document: a 403 right after the clock was corrected is taken for skew.
  const skewed = answer.clockCorrected === true && (code === undefined ? status === 403 : CLOCK_SKEW_CODES.has(code))
  let errorType: RetryErrorType = 'CLIENT_ERROR'
  if (status === 429 || (code !== undefined && THROTTLING_CODES.has(code))) errorType = 'THROTTLING'
  else if (status === undefined || TRANSIENT_STATUSES.has(status) || (code !== undefined && TRANSIENT_CODES.has(code)) || skewed) errorType = 'TRANSIENT'
  else if (status >= 500) errorType = 'SERVER_ERROR'
  const retryAfterHint = retryAfterDate(answer.retryAfter)
  return retryAfterHint === undefined ? { errorType } : { errorType, retryAfterHint }
}

function retryAfterDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return new Date(Date.now() + seconds * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : new Date(date)
}

/** The promise, or the signal's reason as soon as it aborts (the strategy's backoff cannot be cut short itself). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}

// HMAC keys as KeyObjects, made once per key: Node's HMAC takes 9 µs with a key given as bytes
// (it is imported every time) and 1.3 µs with a KeyObject, and SigV4 computes two per request
// with keys that change once a day or when the credentials do.
const keyObjectsOfStrings = new Map<string, KeyObject>()
const keyObjectsOfBytes = new WeakMap<object, KeyObject>()
const MAX_STRING_KEYS = 16

function keyObjectOf(secret: SourceData): KeyObject {
  if (typeof secret === 'string') {
    let key = keyObjectsOfStrings.get(secret)
    if (key === undefined) {
      if (keyObjectsOfStrings.size >= MAX_STRING_KEYS) keyObjectsOfStrings.clear()
      key = createSecretKey(Buffer.from(secret, 'utf8'))
      keyObjectsOfStrings.set(secret, key)
    }
    return key
  }
  let key = keyObjectsOfBytes.get(secret)
  if (key === undefined) {
    const bytes = ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret)
    key = createSecretKey(bytes)
    keyObjectsOfBytes.set(secret, key)
  }
  return key
}

/** The SDK's SHA-256 (hash, or HMAC with a secret) for the signer, with its HMAC keys kept as KeyObjects. */
class KeyCachingSha256 implements Checksum {
  private readonly secret: SourceData | undefined
  private hash: Hash | Hmac

  constructor(secret?: SourceData) {
    this.secret = secret
    this.hash = this.fresh()
  }

  update(data: Uint8Array): void {
    this.hash.update(data)
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }

  reset(): void {
    this.hash = this.fresh()
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', keyObjectOf(this.secret))
  }
}
