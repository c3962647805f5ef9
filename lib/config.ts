import { ConfigError } from './errors.ts'
import { MAX_CONCURRENCY, keyPrefixProblem } from './download/request.ts'

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
  /** Whether origins on loopback addresses are accepted (only for local runs). */
  readonly allowLoopbackOrigins: boolean
}

type Env = Readonly<Record<string, string | undefined>>

export const DEFAULT_BASE_URL = 'https://i1.mifile.cn/a1'
export const DEFAULT_CONCURRENCY = 3
export const DEFAULT_KEY_PREFIX = 'flags/'

/** Reads and validates the download function's environment; throws ConfigError naming the variable. */
export function loadDownloadConfig(env: Env = process.env): DownloadConfig {
  return Object.freeze({
    bucket: requiredString(env, 'BUCKET_NAME'),
    baseUrl: httpUrl(env, 'BASE_URL', DEFAULT_BASE_URL),
    concurrency: integerInRange(env, 'CONCURRENCY', DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    keyPrefix: keyPrefix(env, 'KEY_PREFIX', DEFAULT_KEY_PREFIX),
    s3Endpoint: optionalHttpUrl(env, 'S3_ENDPOINT'),
    allowLoopbackOrigins: boolean(env, 'ALLOW_LOOPBACK_ORIGINS', false),
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

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  if (raw === 'true') return true
  if (raw === 'false') return false
  throw new ConfigError(name, `must be "true" or "false", got "${raw}"`)
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
