import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { IncomingHttpHeaders } from 'node:http'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { createS3Client, S3_TIMEOUTS_MS } from '../../lib/adapters/s3/client.ts'
import { signedS3Requests } from '../../lib/adapters/s3/signedRequests.ts'
import { pass, startS3FaultProxy, type S3Fault } from '../../devkit/s3FaultProxy.ts'
import { useIntegrationServers } from '../support/localS3.ts'

// The HEAD and single-part PUT of every image go out signed by hand (signedRequests.ts, for the
// CPU it saves). This holds them to the SDK's own PutObject and HeadObject: the same cases, against
// the same local S3 behind the same faults, must end the same way through either.

const servers = useIntegrationServers()

/** An object as a HEAD sees it. */
interface HeadOfObject {
  readonly contentType: string | undefined
  readonly contentLength: number | undefined
  readonly metadata: Record<string, string>
}

/** The two requests, as each implementation makes them. */
interface S3Path {
  put(key: string, body: Buffer, contentType: string, metadata: Record<string, string>): Promise<void>
  /** The object under `key`, or undefined when there is none. */
  head(key: string): Promise<HeadOfObject | undefined>
  close(): Promise<void>
}

const OPERATION_TIMEOUT_MS = 15_000

/** Through signedS3Requests, with the headers the object sink sends. */
function signedPath(client: S3Client, bucket: string): S3Path {
  const signed = signedS3Requests(client, bucket, S3_TIMEOUTS_MS)
  return {
    async put(key, body, contentType, metadata) {
      const checksum = Buffer.alloc(4)
      checksum.writeUInt32BE(crc32(body))
      const headers: Record<string, string> = { 'content-type': contentType, 'x-amz-checksum-crc32': checksum.toString('base64') }
      for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value
      await signed.put(key, body, headers, AbortSignal.timeout(OPERATION_TIMEOUT_MS))
    },
    async head(key) {
      const headers = await signed.head(key, AbortSignal.timeout(OPERATION_TIMEOUT_MS))
      if (headers === undefined) return undefined
      const metadata = Object.fromEntries(
        Object.entries(headers)
          .filter(([name]) => name.startsWith('x-amz-meta-'))
          .map(([name, value]) => [name.slice('x-amz-meta-'.length), value]),
      )
      const length = headers['content-length']
      return { contentType: headers['content-type'], contentLength: length === undefined ? undefined : Number(length), metadata }
    },
    close: () => signed.close(),
  }
}

/** Through the SDK's PutObjectCommand and HeadObjectCommand. */
function sdkPath(client: S3Client, bucket: string): S3Path {
  return {
    async put(key, body, contentType, metadata) {
      const command = new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, Metadata: metadata, ChecksumAlgorithm: 'CRC32' })
      await client.send(command, { abortSignal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) })
    },
    async head(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: AbortSignal.timeout(OPERATION_TIMEOUT_MS) })
        return { contentType: head.ContentType, contentLength: head.ContentLength, metadata: head.Metadata ?? {} }
      } catch (error) {
        if (error instanceof Error && error.name === 'NotFound') return undefined
        throw error
      }
    },
    close: async () => undefined,
  }
}

type Decide = (method: string, url: string, index: number, headers: IncomingHttpHeaders) => S3Fault

/** A path of one kind to the file's local S3, through a fault proxy, with a client of its own (so its clock offset starts at 0). */
async function pathThroughProxy(build: typeof signedPath, decide: Decide = () => pass, clockOffsetMs = 0) {
  const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, decide, { clockOffsetMs }))
  const client = createS3Client({ localEndpoint: proxy.endpoint })
  const path = build(client, servers.s3.bucket)
  servers.track({
    close: async () => {
      await path.close()
      client.destroy()
    },
  })
  return { path, proxy, client }
}

// Ten minutes ahead: past the five that make a client correct its clock, within the local S3's fifteen.
const S3_AHEAD_MS = 10 * 60_000

/** When a request was signed, from its x-amz-date. */
function signedAt(headers: IncomingHttpHeaders): number {
  return Date.parse(String(headers['x-amz-date']).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))
}

/** An S3 whose clock is ahead: a PUT signed more than five minutes from its time is refused as S3 refuses it, with S3's Date. */
const skewedS3: Decide = (method, _url, _index, headers) => {
  const serverTime = Date.now() + S3_AHEAD_MS
  if (method !== 'PUT' || Math.abs(signedAt(headers) - serverTime) < 5 * 60_000) return pass
  return { kind: 'status', status: 403, code: 'RequestTimeTooSkewed', date: new Date(serverTime) }
}

const jpeg = (size: number, fill: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(size - 4, fill)])
const METADATA = { 'origin-etag': '"v1"', 'origin-last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT' }

describe.each([
  ['the signed requests', signedPath],
  ['the SDK S3Client', sdkPath],
])('S3 contract: HEAD and PUT through %s', (name, build) => {
  const prefix = `contract/${name === 'the SDK S3Client' ? 'sdk' : 'signed'}/`

  it('stores the bytes of a PUT whole, with their content type and metadata', async () => {
    const { path } = await pathThroughProxy(build)
    const body = jpeg(3000, 1)

    await path.put(`${prefix}put.jpg`, body, 'image/jpeg', METADATA)

    const stored = await servers.s3.getObject(`${prefix}put.jpg`)
    expect(stored?.body.equals(body)).toBe(true)
    expect(stored?.contentType).toBe('image/jpeg')
    expect((await servers.s3.head(`${prefix}put.jpg`)).metadata).toEqual(METADATA)
  })

  it('finds a stored object by HEAD, with its type, length and metadata', async () => {
    await servers.s3.client.send(
      new PutObjectCommand({ Bucket: servers.s3.bucket, Key: `${prefix}stored.jpg`, Body: jpeg(1234, 2), ContentType: 'image/png', Metadata: METADATA }),
    )
    const { path } = await pathThroughProxy(build)

    expect(await path.head(`${prefix}stored.jpg`)).toEqual({ contentType: 'image/png', contentLength: 1234, metadata: METADATA })
  })

  it('answers a HEAD of a key with no object as not found', async () => {
    const { path, proxy } = await pathThroughProxy(build)

    expect(await path.head(`${prefix}missing.jpg`)).toBeUndefined()
    expect(proxy.requests.map((request) => request.method)).toEqual(['HEAD'])
  })

  it('retries a PUT that S3 answers 503 SlowDown, and stores the object whole', async () => {
    let refused = 0
    const { path, proxy } = await pathThroughProxy(build, (method) =>
      method === 'PUT' && refused++ < 2 ? { kind: 'status', status: 503, code: 'SlowDown' } : pass,
    )
    const body = jpeg(2000, 3)

    await path.put(`${prefix}slowdown.jpg`, body, 'image/jpeg', METADATA)

    expect(proxy.requests.filter((request) => request.method === 'PUT').map((request) => request.fault)).toEqual(['status', 'status', 'pass'])
    expect((await servers.s3.getObject(`${prefix}slowdown.jpg`))?.body.equals(body)).toBe(true)
  })

  it('gives up on a PUT S3 keeps answering 503 SlowDown, after the attempts the retry strategy allows, storing nothing', async () => {
    const { path, proxy } = await pathThroughProxy(build, (method) => (method === 'PUT' ? { kind: 'status', status: 503, code: 'SlowDown' } : pass))

    await expect(path.put(`${prefix}refused.jpg`, jpeg(2000, 4), 'image/jpeg', METADATA)).rejects.toThrow(/SlowDown|503/)

    expect(proxy.requests.filter((request) => request.method === 'PUT')).toHaveLength(3)
    expect(await servers.s3.getObject(`${prefix}refused.jpg`)).toBeUndefined()
  })

  it("corrects the client's clock when S3 says the request time is too skewed, and signs the retry with S3's time", async () => {
    const { path, proxy, client } = await pathThroughProxy(build, skewedS3, S3_AHEAD_MS)

    await path.put(`${prefix}skew.jpg`, jpeg(2000, 5), 'image/jpeg', METADATA)

    const puts = proxy.requests.filter((request) => request.method === 'PUT')
    expect(puts.map((request) => request.fault)).toEqual(['status', 'pass'])
    expect(Math.abs(signedAt(puts[1]!.headers) - S3_AHEAD_MS - Date.now())).toBeLessThan(60_000)
    expect(Math.abs(client.config.systemClockOffset - S3_AHEAD_MS)).toBeLessThan(60_000)
  })
})
