import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_MIN_BODY_BYTES_PER_SECOND,
  DEFAULT_BASE_URL,
  DEFAULT_DEADLINE_RESERVE_MS,
  DEFAULT_MAX_IMAGE_BYTES,
  DEFAULT_ORIGIN_TIMEOUTS,
  DEFAULT_RETRY,
  loadDownloadConfig,
} from '../../../lib/config/download.ts'
import { DEFAULT_CODES } from '../../../lib/download/request.ts'
import { ConfigError } from '../../../lib/config/env.ts'

describe('Function: loadDownloadConfig', () => {
  it('applies the defaults when only the bucket is set', () => {
    expect(loadDownloadConfig({ BUCKET_NAME: 'images' })).toEqual({
      bucket: 'images',
      localS3Endpoint: undefined,
      maxBodyBytes: 256 * 1024,
      originTimeouts: DEFAULT_ORIGIN_TIMEOUTS,
      metricsNamespace: 'imgpull',
      rules: {
        codes: DEFAULT_CODES,
        baseUrl: DEFAULT_BASE_URL,
        concurrency: 3,
        keyPrefix: 'flags/',
        maxCodes: 1000,
        originPolicy: { allowedHosts: ['i1.mifile.cn'], localOrigins: false },
      },
      settings: {
        retry: DEFAULT_RETRY,
        maxImageBytes: DEFAULT_MAX_IMAGE_BYTES,
        deadlineReserveMs: DEFAULT_DEADLINE_RESERVE_MS,
        attemptTimeoutMs: DEFAULT_ATTEMPT_TIMEOUT_MS,
        minBodyBytesPerSecond: DEFAULT_MIN_BODY_BYTES_PER_SECOND,
        // A quarter of the 512 MB the function has.
        memoryBudgetBytes: 128 * 1024 * 1024,
        maxBufferedBytes: 5 * 1024 * 1024,
        maxStreamedBytes: 15 * 1024 * 1024,
        storeConcurrency: 32,
      },
    })
  })

  it('reads every variable it knows', () => {
    const config = loadDownloadConfig({
      BUCKET_NAME: 'b',
      BASE_URL: 'https://cdn.example.org/x',
      CONCURRENCY: '10',
      KEY_PREFIX: 'img/',
      LOCAL_S3_ENDPOINT: 'http://127.0.0.1:4569',
      STAGE: 'local',
      ALLOWED_HOSTS: 'cdn.example.org, *.images.example.org',
      MAX_CODES: '50',
      MAX_BODY_BYTES: '4096',
      CONNECT_TIMEOUT_MS: '1500',
      HEADERS_TIMEOUT_MS: '2500',
      BODY_TIMEOUT_MS: '3500',
      MAX_ATTEMPTS: '5',
      RETRY_BASE_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '800',
      RETRY_AFTER_MAX_MS: '9000',
      MAX_IMAGE_BYTES: '1048576',
      DEADLINE_RESERVE_MS: '3000',
      ATTEMPT_TIMEOUT_MS: '7000',
      MIN_BODY_RATE: '0',
      POWERTOOLS_METRICS_NAMESPACE: 'imgpull-test',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
      MEMORY_BUDGET_MB: '300',
      STORE_CONCURRENCY: '16',
    })
    expect(config).toEqual({
      bucket: 'b',
      localS3Endpoint: 'http://127.0.0.1:4569',
      maxBodyBytes: 4096,
      originTimeouts: { connectTimeoutMs: 1500, headersTimeoutMs: 2500, bodyTimeoutMs: 3500 },
      metricsNamespace: 'imgpull-test',
      rules: {
        codes: DEFAULT_CODES,
        baseUrl: 'https://cdn.example.org/x',
        concurrency: 10,
        keyPrefix: 'img/',
        maxCodes: 50,
        originPolicy: { allowedHosts: ['cdn.example.org', '*.images.example.org'], localOrigins: true },
      },
      settings: {
        retry: { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 800, maxRetryAfterMs: 9000 },
        maxImageBytes: 1048576,
        deadlineReserveMs: 3000,
        attemptTimeoutMs: 7000,
        minBodyBytesPerSecond: 0,
        memoryBudgetBytes: 300 * 1024 * 1024,
        maxBufferedBytes: 5 * 1024 * 1024,
        maxStreamedBytes: 15 * 1024 * 1024,
        storeConcurrency: 16,
      },
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('derives the memory budget from the function\'s memory, and keeps a set one within it', () => {
    const budgetMb = (env: Record<string, string>) => loadDownloadConfig({ BUCKET_NAME: 'b', ...env }).settings.memoryBudgetBytes / 1024 ** 2
    expect(budgetMb({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769' })).toBe(442)
    expect(budgetMb({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' })).toBe(32)
    expect(() => budgetMb({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512', MEMORY_BUDGET_MB: '600' })).toThrow(
      /^MEMORY_BUDGET_MB must be an integer from 32 to 512, got "600"$/,
    )
  })

  it('treats an empty LOCAL_S3_ENDPOINT as unset, as deployed stages pass it', () => {
    expect(loadDownloadConfig({ BUCKET_NAME: 'b', LOCAL_S3_ENDPOINT: '' }).localS3Endpoint).toBeUndefined()
  })

  it.each([
    [{}, /^BUCKET_NAME is required$/],
    [{ BUCKET_NAME: 'b', CONCURRENCY: '0' }, /^CONCURRENCY must be an integer from 1 to 128, got "0"$/],
    [{ BUCKET_NAME: 'b', CONCURRENCY: 'three' }, /^CONCURRENCY must be an integer/],
    [{ BUCKET_NAME: 'b', BASE_URL: 'ftp://x' }, /^BASE_URL must be an http\(s\) URL/],
    [{ BUCKET_NAME: 'b', KEY_PREFIX: '../' }, /^KEY_PREFIX must be path segments/],
    [{ BUCKET_NAME: 'b', MAX_ATTEMPTS: '0' }, /^MAX_ATTEMPTS must be an integer from 1 to 10, got "0"$/],
    [{ BUCKET_NAME: 'b', HEADERS_TIMEOUT_MS: '5s' }, /^HEADERS_TIMEOUT_MS must be an integer from 1 to 60000/],
    [{ BUCKET_NAME: 'b', MAX_IMAGE_BYTES: '-1' }, /^MAX_IMAGE_BYTES must be an integer from 1 to 1073741824/],
    [{ BUCKET_NAME: 'b', ALLOWED_HOSTS: 'a.com, b c' }, /^ALLOWED_HOSTS must be a comma-separated list/],
    [{ BUCKET_NAME: 'b', ALLOWED_HOSTS: 'other.org' }, /^BASE_URL host "i1.mifile.cn" is not in ALLOWED_HOSTS/],
    [{ BUCKET_NAME: 'b', BASE_URL: 'http://cdn.example.org/a' }, /^BASE_URL must use https/],
    [{ BUCKET_NAME: 'b', BASE_URL: 'https://127.0.0.1:8701' }, /^BASE_URL 127.0.0.1 is a loopback address/],
    [{ BUCKET_NAME: 'b', MAX_CODES: '0' }, /^MAX_CODES must be an integer from 1 to 10000/],
  ])('fails loudly, naming the variable, for %j', (env, message) => {
    expect(() => loadDownloadConfig(env)).toThrow(ConfigError)
    expect(() => loadDownloadConfig(env)).toThrow(message)
  })
})
