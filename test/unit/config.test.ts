import { describe, expect, it } from 'vitest'
import { DEFAULT_BASE_URL, loadDownloadConfig } from '../../lib/config.ts'
import { ConfigError } from '../../lib/errors.ts'

describe('Function: loadDownloadConfig', () => {
  it('applies the defaults when only the bucket is set', () => {
    expect(loadDownloadConfig({ BUCKET_NAME: 'images' })).toEqual({
      bucket: 'images',
      baseUrl: DEFAULT_BASE_URL,
      concurrency: 3,
      keyPrefix: 'flags/',
      s3Endpoint: undefined,
      allowLoopbackOrigins: false,
    })
  })

  it('reads every variable it knows', () => {
    const config = loadDownloadConfig({
      BUCKET_NAME: 'b',
      BASE_URL: 'https://cdn.example.org/x',
      CONCURRENCY: '10',
      KEY_PREFIX: 'img/',
      S3_ENDPOINT: 'http://127.0.0.1:4569',
      ALLOW_LOOPBACK_ORIGINS: 'true',
    })
    expect(config).toEqual({
      bucket: 'b',
      baseUrl: 'https://cdn.example.org/x',
      concurrency: 10,
      keyPrefix: 'img/',
      s3Endpoint: 'http://127.0.0.1:4569',
      allowLoopbackOrigins: true,
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('treats an empty S3_ENDPOINT as unset, as deployed stages pass it', () => {
    expect(loadDownloadConfig({ BUCKET_NAME: 'b', S3_ENDPOINT: '' }).s3Endpoint).toBeUndefined()
  })

  it.each([
    [{}, /^BUCKET_NAME is required$/],
    [{ BUCKET_NAME: 'b', CONCURRENCY: '0' }, /^CONCURRENCY must be an integer from 1 to 64, got "0"$/],
    [{ BUCKET_NAME: 'b', CONCURRENCY: 'three' }, /^CONCURRENCY must be an integer/],
    [{ BUCKET_NAME: 'b', BASE_URL: 'ftp://x' }, /^BASE_URL must be an http\(s\) URL/],
    [{ BUCKET_NAME: 'b', KEY_PREFIX: '../' }, /^KEY_PREFIX must be path segments/],
    [{ BUCKET_NAME: 'b', ALLOW_LOOPBACK_ORIGINS: 'yes' }, /^ALLOW_LOOPBACK_ORIGINS must be "true" or "false"/],
  ])('fails loudly, naming the variable, for %j', (env, message) => {
    expect(() => loadDownloadConfig(env)).toThrow(ConfigError)
    expect(() => loadDownloadConfig(env)).toThrow(message)
  })
})
