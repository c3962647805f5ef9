import type { OriginTimeouts } from '../adapters/origin/httpImageSource.ts'
import { S3_PART_BYTES, S3_STREAMED_BYTES } from '../adapters/s3/objectSink.ts'
import type { EngineSettings } from '../download/engine.ts'
import { DEFAULT_CODES, DEFAULT_MAX_CODES, MAX_CONCURRENCY, type RequestRules } from '../download/request.ts'
import type { RetryPolicy } from '../download/retry.ts'
import { bareHost, urlProblem } from '../security/originPolicy.ts'
import { loadBucket, type BucketConfig } from './bucket.ts'
import { ConfigError, hostList, integerInRange, keyPrefix, optionalHttpUrl, present, type Env } from './env.ts'
import { loadMetricsNamespace } from './telemetry.ts'

/** What running downloads takes: the bucket, the origin's timeouts, the rules requests are held to and the engine's limits. */
export interface DownloadRunConfig extends BucketConfig {
  readonly originTimeouts: OriginTimeouts
  /** What a request falls back to, and the limits it must respect. */
  readonly rules: RequestRules
  /** The limits every run works within. */
  readonly settings: EngineSettings
}

/** Everything the download function reads from its environment, validated once at cold start. */
export interface DownloadConfig extends DownloadRunConfig {
  /** The largest HTTP request body accepted; larger ones answer 413. */
  readonly maxBodyBytes: number
  /** CloudWatch namespace of the function's metrics. */
  readonly metricsNamespace: string
}

export const DEFAULT_BASE_URL = 'https://i1.mifile.cn/a1'
export const DEFAULT_CONCURRENCY = 3
export const DEFAULT_PREFIX = 'flags/'

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
// A full request of the longest codes fits: 1000 × (128 characters + quotes and comma).
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024
// Lambda sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE; elsewhere the function's configured 512 MB is assumed.
export const DEFAULT_FUNCTION_MEMORY_MB = 512
// The share of the function's memory bodies may hold. The rest is the runtime, the SDK and the
// garbage V8 has not collected yet: measured on the packaged handler (docs/performance.md).
export const MEMORY_BUDGET_SHARE = 0.25
// The smallest budget with room for a streamed body (three 5 MiB parts) besides the admissions.
const MIN_MEMORY_BUDGET_MB = 32
export const DEFAULT_STORE_CONCURRENCY = 32
const LOCAL_STAGE = 'local'

const MINUTE_MS = 60_000

/** Reads and validates the download function's environment; throws ConfigError naming the variable. */
export function loadDownloadConfig(env: Env = process.env): DownloadConfig {
  return Object.freeze({
    ...loadDownloadRun(env, integerInRange(env, 'MAX_CODES', DEFAULT_MAX_CODES, 1, 10_000)),
    maxBodyBytes: integerInRange(env, 'MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 6 * 1024 * 1024),
    metricsNamespace: loadMetricsNamespace(env),
  })
}

/** What downloads run with, requests of at most `maxCodes` codes: what the download function and the jobs' worker share. */
export function loadDownloadRun(env: Env, maxCodes: number): DownloadRunConfig {
  const rules = loadRequestRules(env, maxCodes)
  return Object.freeze({
    ...loadBucket(env),
    originTimeouts: Object.freeze({
      connectTimeoutMs: integerInRange(env, 'CONNECT_TIMEOUT_MS', DEFAULT_ORIGIN_TIMEOUTS.connectTimeoutMs, 1, MINUTE_MS),
      headersTimeoutMs: integerInRange(env, 'HEADERS_TIMEOUT_MS', DEFAULT_ORIGIN_TIMEOUTS.headersTimeoutMs, 1, MINUTE_MS),
      bodyTimeoutMs: integerInRange(env, 'BODY_TIMEOUT_MS', DEFAULT_ORIGIN_TIMEOUTS.bodyTimeoutMs, 1, MINUTE_MS),
    }),
    rules,
    settings: loadEngineSettings(env),
  })
}

/**
 * The rules a request is held to, and what it falls back to: the origin (BASE_URL, the hosts it may
 * be on), the key prefix and the concurrency. What the jobs' planner checks a job against too.
 */
export function loadRequestRules(env: Env, maxCodes: number): RequestRules {
  // Only stage local accepts plain http and loopback origins. Anything but an explicit `local` is
  // treated as deployed: the safe side when STAGE is missing.
  const stage = present(env, 'STAGE')
  const baseUrl = optionalHttpUrl(env, 'BASE_URL') ?? DEFAULT_BASE_URL
  const baseUrlParsed = new URL(baseUrl)
  const originPolicy = Object.freeze({
    allowedHosts: Object.freeze(hostList(env, 'ALLOWED_HOSTS', bareHost(baseUrlParsed.hostname))),
    localOrigins: stage === LOCAL_STAGE,
  })
  const baseUrlProblem = urlProblem(baseUrlParsed, originPolicy)
  if (baseUrlProblem !== undefined) throw new ConfigError('BASE_URL', `${baseUrlProblem}, got "${baseUrl}"`)
  return Object.freeze({
    codes: DEFAULT_CODES,
    baseUrl,
    concurrency: integerInRange(env, 'CONCURRENCY', DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY),
    keyPrefix: keyPrefix(env, 'KEY_PREFIX', DEFAULT_PREFIX),
    maxCodes,
    originPolicy,
  })
}

function loadEngineSettings(env: Env): EngineSettings {
  return Object.freeze({
    // S3 takes objects up to 5 TiB; a Lambda has no business fetching more than 1 GiB of one image.
    maxImageBytes: integerInRange(env, 'MAX_IMAGE_BYTES', DEFAULT_MAX_IMAGE_BYTES, 1, 1024 ** 3),
    retry: Object.freeze({
      maxAttempts: integerInRange(env, 'MAX_ATTEMPTS', DEFAULT_RETRY.maxAttempts, 1, 10),
      baseDelayMs: integerInRange(env, 'RETRY_BASE_DELAY_MS', DEFAULT_RETRY.baseDelayMs, 0, MINUTE_MS),
      maxDelayMs: integerInRange(env, 'RETRY_MAX_DELAY_MS', DEFAULT_RETRY.maxDelayMs, 0, MINUTE_MS),
      maxRetryAfterMs: integerInRange(env, 'RETRY_AFTER_MAX_MS', DEFAULT_RETRY.maxRetryAfterMs, 0, MINUTE_MS),
    }),
    deadlineReserveMs: integerInRange(env, 'DEADLINE_RESERVE_MS', DEFAULT_DEADLINE_RESERVE_MS, 0, MINUTE_MS),
    attemptTimeoutMs: integerInRange(env, 'ATTEMPT_TIMEOUT_MS', DEFAULT_ATTEMPT_TIMEOUT_MS, 1, 15 * MINUTE_MS),
    minBodyBytesPerSecond: integerInRange(env, 'MIN_BODY_RATE', DEFAULT_MIN_BODY_BYTES_PER_SECOND, 0, 1024 ** 3),
    memoryBudgetBytes: memoryBudgetMb(env) * 1024 * 1024,
    maxBufferedBytes: S3_PART_BYTES,
    maxStreamedBytes: S3_STREAMED_BYTES,
    storeConcurrency: integerInRange(env, 'STORE_CONCURRENCY', DEFAULT_STORE_CONCURRENCY, 1, 256),
  })
}

/** MEMORY_BUDGET_MB, or a share of the function's memory. */
function memoryBudgetMb(env: Env): number {
  const functionMb = integerInRange(env, 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', DEFAULT_FUNCTION_MEMORY_MB, 128, 10_240)
  const derived = Math.max(MIN_MEMORY_BUDGET_MB, Math.floor(functionMb * MEMORY_BUDGET_SHARE))
  return integerInRange(env, 'MEMORY_BUDGET_MB', derived, MIN_MEMORY_BUDGET_MB, functionMb)
}
