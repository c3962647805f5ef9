import { describe, expect, it } from 'vitest'
import { loadDownloadConfig } from '../../../lib/config/download.ts'
import { MAX_CHUNK_SIZE } from '../../../lib/config/jobStore.ts'
import { loadWorkerConfig } from '../../../lib/config/worker.ts'

const REQUIRED = { BUCKET_NAME: 'images', JOBS_TABLE: 'jobs', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs' }

describe('Function: loadWorkerConfig', () => {
  it('runs a chunk as the download function runs a request, held to the most codes a chunk may hold', () => {
    const env = { ...REQUIRED, BASE_URL: 'https://cdn.example.org/x', HEADERS_TIMEOUT_MS: '2500', MAX_ATTEMPTS: '5', POWERTOOLS_METRICS_NAMESPACE: 'imgpull-test' }
    const config = loadWorkerConfig(env)
    const download = loadDownloadConfig(env)
    expect(config).toMatchObject({ originTimeouts: download.originTimeouts, settings: download.settings, metricsNamespace: 'imgpull-test' })
    expect(config.rules).toEqual({ ...download.rules, maxCodes: MAX_CHUNK_SIZE })
    expect(config).toMatchObject({ bucket: 'images', tableName: 'jobs', reportPrefix: 'reports/', ttlDays: 30 })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('reads none of the planner\'s or the HTTP body\'s variables', () => {
    const config = loadWorkerConfig({ ...REQUIRED, MAX_CODES: 'many', MAX_BODY_BYTES: '1', JOBS_MAX_BODY_BYTES: '1', CHUNK_SIZE: '501', MANIFEST_PREFIX: 'm', PLAN_PREFIX: 'p' })
    expect(config.tableName).toBe('jobs')
  })

  it.each([
    [{ BUCKET_NAME: 'b' }, /^JOBS_TABLE is required$/],
    [{ ...REQUIRED, BASE_URL: 'ftp://x' }, /^BASE_URL must be an http\(s\) URL/],
    [{ ...REQUIRED, HEADERS_TIMEOUT_MS: '5s' }, /^HEADERS_TIMEOUT_MS must be an integer/],
    [{ ...REQUIRED, REPORT_PREFIX: '' }, /^REPORT_PREFIX must be a folder/],
  ])('fails loudly, naming the variable, for %j', (env, message) => {
    expect(() => loadWorkerConfig(env)).toThrow(message)
  })
})
