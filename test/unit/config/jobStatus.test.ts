import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../lib/config/env.ts'
import { loadJobStatusConfig } from '../../../lib/config/jobStatus.ts'

describe('Function: loadJobStatusConfig', () => {
  it('loads with only the jobs table set', () => {
    const config = loadJobStatusConfig({ JOBS_TABLE: 'jobs' })
    expect(config).toEqual({ tableName: 'jobs', localDynamoDbEndpoint: undefined })
    expect(Object.isFrozen(config)).toBe(true)
  })

  it('reads the local DynamoDB server of stage local', () => {
    expect(loadJobStatusConfig({ JOBS_TABLE: 'jobs', LOCAL_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }).localDynamoDbEndpoint).toBe('http://127.0.0.1:8000')
  })

  it('is not failed by a malformed variable of the downloads, the queue or the reports, which it never uses', () => {
    const config = loadJobStatusConfig({
      JOBS_TABLE: 'jobs',
      BASE_URL: 'ftp://x',
      CONCURRENCY: 'three',
      KEY_PREFIX: '../',
      MAX_BODY_BYTES: '1',
      JOBS_MAX_BODY_BYTES: 'lots',
      CHUNK_SIZE: '501',
      REPORT_PREFIX: 'reports',
      JOB_TTL_DAYS: '0',
    })
    expect(config.tableName).toBe('jobs')
  })

  it('fails loudly, naming the variable, for a missing table or a bad endpoint', () => {
    expect(() => loadJobStatusConfig({})).toThrow(new ConfigError('JOBS_TABLE', 'is required'))
    expect(() => loadJobStatusConfig({ JOBS_TABLE: 'jobs', LOCAL_DYNAMODB_ENDPOINT: 'localhost:8000' })).toThrow(/^LOCAL_DYNAMODB_ENDPOINT must be an http\(s\) URL/)
  })
})
