import { PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { s3JobObjects } from '../../lib/adapters/s3/jobObjects.ts'
import { ValidationError } from '../../lib/errors.ts'
import { requestWithManifestCodes } from '../../lib/jobs/manifest.ts'
import { errorResponse } from '../../lib/lambda/errorResponses.ts'
import { pass, startS3FaultProxy, type S3Fault } from '../../devkit/s3FaultProxy.ts'
import { useIntegrationServers } from '../support/localS3.ts'

// A manifest read through a local S3, or through a proxy answering as S3 does on AWS to a role it
// does not let list the bucket: a missing key is then a 403 AccessDenied, not a 404 NoSuchKey.
const servers = useIntegrationServers()
const rules = { manifestPrefix: 'manifests/', maxManifestBytes: 64 * 1024, request: { maxCodes: 10 } }
const ACCESS_DENIED: S3Fault = { kind: 'status', status: 403, code: 'AccessDenied' }

async function readThrough(decide: (method: string, url: string) => S3Fault, manifest: string): Promise<unknown> {
  const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, decide))
  const client = createS3Client({ localEndpoint: proxy.endpoint })
  try {
    return await requestWithManifestCodes({ manifest, prefix: 'flags/m/' }, { rules, objects: s3JobObjects(client, servers.s3.bucket) })
  } finally {
    client.destroy()
  }
}

/** What the caller of POST /jobs is answered for a request that failed so. */
async function answerTo(reading: Promise<unknown>): Promise<{ statusCode: number; body: unknown }> {
  const error = await reading.then(
    () => new Error('the manifest was read'),
    (thrown: unknown) => thrown,
  )
  const response = errorResponse(error, () => undefined)
  return { statusCode: response.statusCode, body: JSON.parse(response.body) }
}

describe('A manifest read from S3', () => {
  it('reads the codes of a manifest that is there', async () => {
    await servers.s3.client.send(new PutObjectCommand({ Bucket: servers.s3.bucket, Key: 'manifests/here.txt', Body: 'cn\nfr\n' }))
    expect(await readThrough(() => pass, 'manifests/here.txt')).toEqual({ prefix: 'flags/m/', codes: ['cn', 'fr'] })
  })

  it('answers a missing manifest (S3 404 NoSuchKey) with a 400 naming it', async () => {
    expect(await answerTo(readThrough(() => pass, 'manifests/none.txt'))).toEqual({
      statusCode: 400,
      body: { message: 'manifest: no object "manifests/none.txt" in the bucket' },
    })
  })

  it('answers a manifest S3 refuses with 403 AccessDenied (a missing key, to a role that may not list it) with a 400, not a 500', async () => {
    const reading = readThrough((method, url) => (method === 'GET' && url.includes('/manifests/') ? ACCESS_DENIED : pass), 'manifests/hidden.txt')
    await expect(reading).rejects.toBeInstanceOf(ValidationError)
    expect(await answerTo(reading)).toEqual({
      statusCode: 400,
      body: { message: 'manifest: no object "manifests/hidden.txt" in the bucket that the jobs function may read' },
    })
  })
})
