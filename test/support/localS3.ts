import { afterAll, afterEach, beforeAll } from 'vitest'
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { startLocalS3 } from '../../devkit/localS3.ts'

export interface TestS3 {
  readonly endpoint: string
  readonly bucket: string
  readonly client: S3Client
  /** An object's bytes and Content-Type, or undefined when there is no such key. */
  getObject(key: string): Promise<{ body: Buffer; contentType: string | undefined } | undefined>
  /** An object's user metadata and last-modified time. */
  head(key: string): Promise<{ metadata: Record<string, string>; lastModified: Date | undefined }>
  /** Every key (under `prefix`), sorted, through as many listing pages as it takes. */
  listKeys(prefix?: string): Promise<string[]>
  close(): Promise<void>
}

/** A real local S3 server on a free loopback port, with one bucket, in a throwaway folder. */
export async function startTestS3(bucket = 'imgpull-test-images'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'imgpull-s3-'))
  const server = await startLocalS3({ port: 0, directory, buckets: [bucket] })
  const client = createS3Client({ localEndpoint: server.endpoint })

  return {
    endpoint: server.endpoint,
    bucket,
    client,
    async getObject(key) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        const body = Buffer.from(await object.Body!.transformToByteArray())
        return { body, contentType: object.ContentType }
      } catch (error) {
        if (error instanceof Error && error.name === 'NoSuchKey') return undefined
        throw error
      }
    },
    async head(key) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      return { metadata: head.Metadata ?? {}, lastModified: head.LastModified }
    },
    async listKeys(prefix) {
      const keys: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
        keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''))
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined
      } while (token !== undefined)
      return keys.sort()
    },
    async close() {
      client.destroy()
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}

interface Closable {
  close(): Promise<void>
}

export interface IntegrationServers {
  /** The file's local S3, started before its first test. */
  readonly s3: TestS3
  /** Closes the fixture after the test that opened it. */
  track<T extends Closable>(fixture: T): T
}

/** One local S3 for a test file, and cleanup of every loopback fixture a test opens. */
export function useIntegrationServers(): IntegrationServers {
  let s3: TestS3 | undefined
  const open: Closable[] = []
  beforeAll(async () => {
    s3 = await startTestS3()
  })
  afterAll(async () => {
    await s3?.close()
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((fixture) => fixture.close()))
  })
  return {
    get s3() {
      if (s3 === undefined) throw new Error('the local S3 starts in beforeAll')
      return s3
    },
    track(fixture) {
      open.push(fixture)
      return fixture
    },
  }
}
