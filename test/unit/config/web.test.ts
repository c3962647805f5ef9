import { describe, expect, it } from 'vitest'
import { loadWebConfig, s3Origin } from '../../../lib/config/web.ts'

describe('Function: loadWebConfig', () => {
  it('serves no gallery unless GALLERY is on', () => {
    expect(loadWebConfig({})).toEqual({ gallery: undefined, imageOrigin: undefined })
  })

  it('reads the gallery settings, and allows images only from where its presigned URLs point', () => {
    const config = loadWebConfig({ GALLERY: 'on', BUCKET_NAME: 'imgpull-prod-imagesbucket-1x2y', JOBS_TABLE: 'jobs', AWS_REGION: 'eu-west-1' })
    expect(config.gallery).toMatchObject({ keyPrefix: 'flags/', pageSize: 100, region: 'eu-west-1' })
    expect(config.imageOrigin).toBe('https://imgpull-prod-imagesbucket-1x2y.s3.eu-west-1.amazonaws.com')
    expect(loadWebConfig({ GALLERY: 'on', BUCKET_NAME: 'b', JOBS_TABLE: 'j', LOCAL_S3_ENDPOINT: 'http://127.0.0.1:4569' }).imageOrigin).toBe('http://127.0.0.1:4569')
  })

  it('refuses a gallery root that is not a folder', () => {
    expect(() => loadWebConfig({ GALLERY: 'on', BUCKET_NAME: 'b', JOBS_TABLE: 'j', KEY_PREFIX: 'flags' })).toThrow(/KEY_PREFIX.*must be a folder/)
    expect(() => loadWebConfig({ GALLERY: 'on', BUCKET_NAME: 'b', JOBS_TABLE: 'j', KEY_PREFIX: '' })).toThrow(/KEY_PREFIX/)
    expect(() => loadWebConfig({ GALLERY: 'on', BUCKET_NAME: 'b', JOBS_TABLE: 'j', KEY_PREFIX: 'flags' })).toThrow(
      /^KEY_PREFIX must be a folder, ending in "\/", to serve the gallery, got "flags"$/,
    )
  })

  it('reads the jobs table without its expiry, which only a writer needs', () => {
    const config = loadWebConfig({ GALLERY: 'on', BUCKET_NAME: 'b', JOBS_TABLE: 'j', LOCAL_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000', JOB_TTL_DAYS: 'never' })
    expect(config.gallery).toMatchObject({ tableName: 'j', localDynamoDbEndpoint: 'http://127.0.0.1:8000' })
    expect(config.gallery).not.toHaveProperty('ttlDays')
  })
})

describe('Function: s3Origin', () => {
  it('is virtual-hosted for a plain name, path-style for one with dots or capitals, and knows China', () => {
    expect(s3Origin('my-bucket', 'us-east-1')).toBe('https://my-bucket.s3.us-east-1.amazonaws.com')
    expect(s3Origin('my.dotted.bucket', 'us-east-1')).toBe('https://s3.us-east-1.amazonaws.com')
    expect(s3Origin('images', 'cn-north-1')).toBe('https://images.s3.cn-north-1.amazonaws.com.cn')
  })
})
