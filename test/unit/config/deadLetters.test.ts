import { describe, expect, it } from 'vitest'
import { loadDeadLettersConfig } from '../../../lib/config/deadLetters.ts'

describe('Function: loadDeadLettersConfig', () => {
  it('reads the table, its expiry, the bucket, where reports go and the queue, with their defaults', () => {
    const config = loadDeadLettersConfig({ JOBS_TABLE: 'jobs', BUCKET_NAME: 'images', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs' })
    expect(config).toEqual({
      tableName: 'jobs',
      localDynamoDbEndpoint: undefined,
      bucket: 'images',
      localS3Endpoint: undefined,
      reportPrefix: 'reports/',
      ttlDays: 30,
      queueUrl: 'http://127.0.0.1:9324/000000000000/jobs',
      localSqsEndpoint: undefined,
      fanOutCheckSeconds: 60,
    })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('reads every variable it knows', () => {
    expect(
      loadDeadLettersConfig({
        JOBS_TABLE: 'j',
        LOCAL_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
        BUCKET_NAME: 'b',
        LOCAL_S3_ENDPOINT: 'http://127.0.0.1:4569',
        REPORT_PREFIX: 'out/reports/',
        JOB_TTL_DAYS: '20',
        JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs',
        LOCAL_SQS_ENDPOINT: 'http://127.0.0.1:9324',
        FAN_OUT_CHECK_SECONDS: '5',
      }),
    ).toEqual({
      tableName: 'j',
      localDynamoDbEndpoint: 'http://127.0.0.1:8000',
      bucket: 'b',
      localS3Endpoint: 'http://127.0.0.1:4569',
      reportPrefix: 'out/reports/',
      ttlDays: 20,
      queueUrl: 'http://127.0.0.1:9324/000000000000/jobs',
      localSqsEndpoint: 'http://127.0.0.1:9324',
      fanOutCheckSeconds: 5,
    })
  })

  it('is not failed by a malformed variable of the downloads or the planner, which it never uses', () => {
    const config = loadDeadLettersConfig({ JOBS_TABLE: 'jobs', BUCKET_NAME: 'images', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs', BASE_URL: 'ftp://x', MAX_ATTEMPTS: '0', CHUNK_SIZE: '501', MANIFEST_PREFIX: 'm', PLAN_PREFIX: 'p' })
    expect(config.reportPrefix).toBe('reports/')
  })

  it.each([
    [{ BUCKET_NAME: 'b' }, /^JOBS_TABLE is required$/],
    [{ JOBS_TABLE: 'j' }, /^BUCKET_NAME is required$/],
    [{ JOBS_TABLE: 'j', BUCKET_NAME: 'b' }, /^JOBS_QUEUE_URL is required$/],
    [{ JOBS_TABLE: 'j', BUCKET_NAME: 'b', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs', FAN_OUT_CHECK_SECONDS: '901' }, /^FAN_OUT_CHECK_SECONDS must be an integer from 1 to 900/],
    [{ JOBS_TABLE: 'j', BUCKET_NAME: 'b', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs', REPORT_PREFIX: 'reports' }, /^REPORT_PREFIX must be a folder, ending in "\/", got "reports"$/],
    [{ JOBS_TABLE: 'j', BUCKET_NAME: 'b', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs', JOB_TTL_DAYS: '366' }, /^JOB_TTL_DAYS must be an integer from 15 to 365/],
    [{ JOBS_TABLE: 'j', BUCKET_NAME: 'b', JOBS_QUEUE_URL: 'http://127.0.0.1:9324/000000000000/jobs', JOB_TTL_DAYS: '7' }, /^JOB_TTL_DAYS must be an integer from 15 to 365 \(a job stays open as long as the jobs queue keeps its chunks, 14 days/],
  ])('fails loudly, naming the variable, for %j', (env, message) => {
    expect(() => loadDeadLettersConfig(env)).toThrow(message)
  })
})
