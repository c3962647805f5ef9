import { describe, expect, it } from 'vitest'
import { loadDownloadConfig } from '../../../lib/config/download.ts'
import { ConfigError } from '../../../lib/config/env.ts'
import { loadJobsConfig } from '../../../lib/config/jobs.ts'
import { JOBS_QUEUE_RETENTION_DAYS } from '../../../lib/config/jobStore.ts'
import { queueResources } from '../../../stack/storage.ts'

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

  it('refuses a worker concurrency below 2, which an SQS event source cannot take, naming the variable', () => {
    expect(() => loadJobsConfig({ ...REQUIRED, WORKER_CONCURRENCY: '1' })).toThrow(ConfigError)
    expect(() => loadJobsConfig({ ...REQUIRED, WORKER_CONCURRENCY: '1' })).toThrow(/^WORKER_CONCURRENCY must be an integer from 2 to 1000 \(.*SQS event source.*\), got "1"$/)
    expect(() => loadJobsConfig({ ...REQUIRED, WORKER_CONCURRENCY: '1001' })).toThrow(/^WORKER_CONCURRENCY must be an integer from 2 to 1000/)
    expect(loadJobsConfig({ ...REQUIRED, WORKER_CONCURRENCY: '2' }).rules.workerConcurrency).toBe(2)
  })

  it('refuses a job TTL shorter than the jobs queue keeps a chunk, and a day, naming the variable', () => {
    const retention = queueResources({ visibility: {}, maxReceiveCount: 5 })['JobsQueue']?.Properties?.['MessageRetentionPeriod']
    expect(retention).toBe(JOBS_QUEUE_RETENTION_DAYS * 86_400)
    expect(() => loadJobsConfig({ ...REQUIRED, JOB_TTL_DAYS: '14' })).toThrow(/^JOB_TTL_DAYS must be an integer from 15 to 365 \(.*14 days.*\), got "14"$/)
    expect(loadJobsConfig({ ...REQUIRED, JOB_TTL_DAYS: '15' }).ttlDays).toBe(15)
  })

  it('reads manifests up to the size of MAX_JOB_CODES codes of the longest length, and a quarter more', () => {
    expect(loadJobsConfig(REQUIRED).rules.maxManifestBytes).toBe(100_000 * 135 * 1.25)
    expect(loadJobsConfig({ ...REQUIRED, MAX_JOB_CODES: '1000000', CHUNK_SIZE: '100' }).rules.maxManifestBytes).toBe(1_000_000 * 135 * 1.25)
    // The largest manifest a job may hold fits: every code of the longest length, pretty-printed as a JSON array.
    const codes = Array.from({ length: 1000 }, (_, i) => `${i}`.padStart(128, 'x'))
    expect(Buffer.byteLength(JSON.stringify(codes, null, 2).replaceAll('\n', '\r\n'))).toBeLessThanOrEqual(loadJobsConfig({ ...REQUIRED, MAX_JOB_CODES: '1000' }).rules.maxManifestBytes)
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
