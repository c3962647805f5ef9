import { ConfigError } from './errors.ts'
import type { RetryPolicy } from './download/retry.ts'
import { DEFAULT_MAX_CODES, MAX_CONCURRENCY, keyPrefixProblem } from './download/request.ts'
import { bareHost, urlProblem, type OriginPolicy } from './security/originPolicy.ts'

/** How long an origin may take, per attempt, before the attempt fails as `timeout`. */
export interface OriginTimeouts {
  /** To open the TCP (and TLS) connection. */
  readonly connectTimeoutMs: number
  /** From sending the request to having all response headers. */
  readonly headersTimeoutMs: number
  /** The longest silence between two chunks of the body. */
  readonly bodyTimeoutMs: number
}

/** Everything the download function reads from its environment, validated once at cold start. */
export interface DownloadConfig {
  /** Bucket the images are stored in. */
  readonly bucket: string
  /** Origin used when a request names none. */
  readonly baseUrl: string
  /** Downloads in flight per invocation when a request names no cap. */
  readonly concurrency: number
  /** Key prefix used when a request names none; every request prefix must lie inside it. */
  readonly keyPrefix: string
  /** S3-compatible endpoint to use instead of AWS (the local S3 server). */
  readonly s3Endpoint: string | undefined
  /** The deployment stage; only `local` accepts plain http and loopback origins. */
  readonly stage: string
  readonly originPolicy: OriginPolicy
  /** The most codes one request may ask for. */
  readonly maxCodes: number
  /** The largest HTTP request body accepted; larger ones answer 413. */
  readonly maxBodyBytes: number
  readonly originTimeouts: OriginTimeouts
  readonly retry: RetryPolicy
  /** The largest image stored; a larger one is `too_large`. */
  readonly maxImageBytes: number
  /** Time kept back before the Lambda timeout to abort running downloads and answer. */
  readonly deadlineReserveMs: number
  /** The longest one attempt at an image may take, from the request to its last byte. */
  readonly attemptTimeoutMs: number
  /** The slowest a body may arrive, in bytes per second on average; 0 accepts any speed. */
  readonly minBodyBytesPerSecond: number
}

type Env = Readonly<Record<string, string | undefined>>

export const DEFAULT_BASE_URL = 'https://i1.mifile.cn/a1'
export const DEFAULT_CONCURRENCY = 3
export const DEFAULT_KEY_PREFIX = 'flags/'

// Defaults sized for a 29 s function behind API Gateway's 30 s: an origin that never answers
// fails after 3 attempts × 5 s of waiting for headers plus backoff, with time to spare.
export const DEFAULT_ORIGIN_TIMEOUTS: OriginTimeouts = {
  connectTimeoutMs: 3000,
  headersTimeoutMs: 5000,
  bodyTimeoutMs: 5000,
}
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  maxRetryAfterMs: 5000,
}
export const DEFAULT_MAX_IMAGE_BYTES = 10 * 1024 * 1024
export const DEFAULT_DEADLINE_RESERVE_MS = 2000
// A 10 MiB image still fits at 1 MiB/s; an origin dripping bytes fails long before.
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000
export const DEFAULT_MIN_BODY_BYTES_PER_SECOND = 8 * 1024
// A full batch of the longest codes fits: 1000 × (128 characters + quotes and comma).
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024
const LOCAL_STAGE = 'local'

const MINUTE_MS = 60_000

/** Reads and validates the download function's environment; throws ConfigError naming the variable. */
export function loadDownloadConfig(env: Env = process.env): DownloadConfig {
  // Anything but an explicit `local` is treated as deployed: the safe side when STAGE is missing.
  const stage = present(env, 'STAGE') ?? 'unset'
  const baseUrl = httpUrl(env, 'BASE_URL', DEFAULT_BASE_URL)
  const baseUrlParsed = new URL(baseUrl)
  const originPolicy = Object.freeze({
    allowedHosts: Object.freeze(allowedHosts(env, 'ALLOWED_HOSTS', bareHost(baseUrlParsed.hostname))),
    localOrigins: stage === LOCAL_STAGE,
  })
  const baseUrlProblem = urlProblem(baseUrlParsed, originPolicy)
  if (baseUrlProblem !== undefined) throw new ConfigError('BASE_URL', `${baseUrlProblem}, got "${baseUrl}"`)

  return Object.freeze({
    bucket: requiredString(env, 'BUCKET_NAME'),
    baseUrl,
    concurrency: integerInRange(env, 'CONCURRENCY', DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    keyPrefix: keyPrefix(env, 'KEY_PREFIX', DEFAULT_KEY_PREFIX),
    s3Endpoint: optionalHttpUrl(env, 'S3_ENDPOINT'),
    stage,
    originPolicy,
    maxCodes: integerInRange(env, 'MAX_BATCH_SIZE', DEFAULT_MAX_CODES, 1, 10_000),
    maxBodyBytes: integerInRange(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 6 * 1024 * 1024),
    originTimeouts: Object.freeze({
      connectTimeoutMs: integerInRange(env, 'CONNECT_TIMEOUT_MS', DEFAULT_ORIGIN_TIMEOUTS.connectTimeoutMs, 1, MINUTE_MS),
      headersTimeoutMs: integerInRange(env, 'HEADERS_TIMEOUT_MS', DEFAULT_ORIGIN_TIMEOUTS.headersTimeoutMs, 1, MINUTE_MS),
      bodyTimeoutMs: integerInRange(env, 'BODY_TIMEOUT_MS', DEFAULT_ORIGIN_TIMEOUTS.bodyTimeoutMs, 1, MINUTE_MS),
    }),
    retry: Object.freeze({
      maxAttempts: integerInRange(env, 'MAX_ATTEMPTS', DEFAULT_RETRY.maxAttempts, 1, 10),
      baseDelayMs: integerInRange(env, 'RETRY_BASE_DELAY_MS', DEFAULT_RETRY.baseDelayMs, 0, MINUTE_MS),
      maxDelayMs: integerInRange(env, 'RETRY_MAX_DELAY_MS', DEFAULT_RETRY.maxDelayMs, 0, MINUTE_MS),
      maxRetryAfterMs: integerInRange(env, 'RETRY_AFTER_MAX_MS', DEFAULT_RETRY.maxRetryAfterMs, 0, MINUTE_MS),
    }),
    // S3 takes objects up to 5 TiB; a Lambda has no business fetching more than 1 GiB of one image.
    maxImageBytes: integerInRange(env, 'MAX_IMAGE_BYTES', DEFAULT_MAX_IMAGE_BYTES, 1, 1024 ** 3),
    deadlineReserveMs: integerInRange(env, 'DEADLINE_RESERVE_MS', DEFAULT_DEADLINE_RESERVE_MS, 0, MINUTE_MS),
    attemptTimeoutMs: integerInRange(env, 'ATTEMPT_TIMEOUT_MS', DEFAULT_ATTEMPT_TIMEOUT_MS, 1, 15 * MINUTE_MS),
    minBodyBytesPerSecond: integerInRange(env, 'MIN_BODY_RATE', DEFAULT_MIN_BODY_BYTES_PER_SECOND, 0, 1024 ** 3),
  })
}

function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function requiredString(env: Env, name: string): string {
  const value = present(env, name)
  if (value === undefined) throw new ConfigError(name, 'is required')
  return value
}

function integerInRange(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`)
  }
  return value
}

/** A comma-separated list of host names, IP literals or `*.domain` wildcards, lower-cased. */
function allowedHosts(env: Env, name: string, fallback: string): string[] {
  const raw = present(env, name)
  if (raw === undefined) return [fallback.toLowerCase()]
  const hosts = raw.split(',').map((host) => host.trim().toLowerCase()).filter((host) => host !== '')
  const bad = hosts.find((host) => !/^(\*\.)?[a-z0-9._:-]+$/.test(host))
  if (bad !== undefined || hosts.length === 0) {
    throw new ConfigError(name, `must be a comma-separated list of host names, got "${raw}"`)
  }
  return hosts
}

function optionalHttpUrl(env: Env, name: string): string | undefined {
  const raw = present(env, name)
  if (raw === undefined) return undefined
  const url = URL.parse(raw)
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`)
  }
  return raw
}

function httpUrl(env: Env, name: string, fallback: string): string {
  return optionalHttpUrl(env, name) ?? fallback
}

function keyPrefix(env: Env, name: string, fallback: string): string {
  const raw = env[name] ?? fallback
  const problem = keyPrefixProblem(raw)
  if (problem !== undefined) throw new ConfigError(name, `${problem}, got "${raw}"`)
  return raw
}
