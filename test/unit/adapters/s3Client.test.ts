import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../../lib/adapters/s3/client.ts'

describe('Function: createS3Client', () => {
  it('signs for the local S3 server with its development keys, path-style, only when given one', async () => {
    const local = createS3Client({ localEndpoint: 'http://127.0.0.1:4569' })
    expect(await local.config.credentials()).toMatchObject({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
    expect(local.config.forcePathStyle).toBe(true)
    local.destroy()

    const aws = createS3Client()
    expect(aws.config.forcePathStyle).toBe(false)
    aws.destroy()
  })
})
