import { describe, expect, it } from 'vitest'
import { loadDownloadConfig } from '../../../lib/config/download.ts'
import { ConfigError } from '../../../lib/config/env.ts'
import { loadJobsConfig } from '../../../lib/config/jobs.ts'

const REQUIRED = { BUCKET_NAME: 'images', JOBS_TABLE: 'jobs', JOBS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs' }

describe('Function: loadJobsConfig', () => {
  it('applies the defaults, and holds a job to the download rules with its own most codes', () => {
    const config = loadJobsConfig(REQUIRED)
    expect(config).toMatchObject({
      tableName: 'jobs',
      queueUrl: REQUIRED.JOBS_QUEUE_URL,
      localSqsEndpoint: undefined,
      localDynamoDbEndpoint: undefined,
      reportPrefix: 'reports/',
      ttlDays: 30,
      rules: { manifestPrefix: 'manifests/', chunkSize: 100, workerConcurrency: 10, request: { maxCodes: 100_000, keyPrefix: 'flags/', concurrency: 3 } },
    })
    const download = loadDownloadConfig(REQUIRED)
    expect(download.rules.maxCodes).toBe(1000)
    expect(config.rules.request).toEqual({ ...download.rules, maxCodes: 100_000 })
  })

  it('refuses a chunk size that would make more than 10 000 chunks of the largest job', () => {
    expect(() => loadJobsConfig({ ...REQUIRED, MAX_JOB_CODES: '1000000', CHUNK_SIZE: '99' })).toThrow(ConfigError)
    expect(() => loadJobsConfig({ ...REQUIRED, MAX_JOB_CODES: '1000000', CHUNK_SIZE: '99' })).toThrow(/CHUNK_SIZE.*must be at least 100 for MAX_JOB_CODES 1000000/)
    expect(loadJobsConfig({ ...REQUIRED, MAX_JOB_CODES: '1000000', CHUNK_SIZE: '100' }).rules.chunkSize).toBe(100)
  })

  it('names the variable that is missing or wrong', () => {
    expect(() => loadJobsConfig({ BUCKET_NAME: 'images', JOBS_QUEUE_URL: 'q' })).toThrow(/JOBS_TABLE/)
    expect(() => loadJobsConfig({ ...REQUIRED, REPORT_PREFIX: 'reports' })).toThrow(/REPORT_PREFIX.*must be a folder, ending in "\/"/)
    expect(() => loadJobsConfig({ ...REQUIRED, MANIFEST_PREFIX: '' })).toThrow(/^MANIFEST_PREFIX must be a folder, ending in "\/", got ""$/)
    expect(() => loadJobsConfig({ ...REQUIRED, CHUNK_SIZE: '501' })).toThrow(/CHUNK_SIZE/)
  })

  it('reads none of the download engine\'s variables: the planner runs no download', () => {
    const config = loadJobsConfig({ ...REQUIRED, MAX_CODES: 'many', MAX_BODY_BYTES: '1', HEADERS_TIMEOUT_MS: '5s', MEMORY_BUDGET_MB: 'all' })
    expect(config.tableName).toBe('jobs')
    expect(Object.isFrozen(config)).toBe(true)
  })
})
