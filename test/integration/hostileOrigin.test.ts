import { crc32 } from 'node:zlib'
import type { S3Client } from '@aws-sdk/client-s3'
import { beforeAll, describe, expect, it } from 'vitest'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import type { DownloadFailure } from '../../lib/download/report.ts'
import { downloaderFor } from '../support/downloader.ts'
import { freePort } from '../support/serverless.ts'
import { startResettingProxy, startSilentServer } from '../../devkit/faultyNetwork.ts'
import { pass, startS3FaultProxy, type ProxiedRequest } from '../../devkit/s3FaultProxy.ts'
import { useIntegrationServers } from '../support/localS3.ts'
import {
  conditionalImage,
  endlessBody,
  failThen,
  htmlPage,
  image,
  jpegBytes,
  resetMidBody,
  shortBody,
  stallBody,
  stallHeaders,
  startOrigin,
  status,
  type Behaviour,
  type OriginFixture,
} from '../../devkit/originFixture.ts'

const MiB = 1024 * 1024
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), jpegBytes(40, 500).subarray(8)])
// Stalls far longer than any timeout of these tests; the fixture's close ends them.
const FOREVER_MS = 10 * 60_000

let origin: OriginFixture | undefined

const servers = useIntegrationServers()

/** An S3 client for the test server, through a proxy that keeps every request S3 receives. */
async function recordingS3Client(): Promise<{ client: S3Client; sent: readonly ProxiedRequest[] }> {
  const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, () => pass))
  return { client: createS3Client({ localEndpoint: proxy.endpoint }), sent: proxy.requests }
}

/** A recorded request's path and query. */
function urlOf(request: ProxiedRequest): URL {
  return new URL(request.url, 'http://s3.test')
}

interface Case {
  readonly behaviour: Behaviour
  readonly reason?: DownloadFailure['reason']
  readonly attempts: number
  readonly contentType?: string
}

describe('Download engine against a hostile origin', () => {
  const cases: Record<string, Case> = {
    fine: { behaviour: image(jpegBytes(1)), attempts: 1, contentType: 'image/jpeg' },
    png: { behaviour: image(PNG, { contentType: 'application/octet-stream' }), attempts: 1, contentType: 'image/png' },
    slowbutintime: { behaviour: stallHeaders(200, image(jpegBytes(2))), attempts: 1, contentType: 'image/jpeg' },
    always500: { behaviour: status(500, 'boom'), reason: 'http_500', attempts: 3 },
    recovers503: { behaviour: failThen(1, status(503), image(jpegBytes(3))), attempts: 2, contentType: 'image/jpeg' },
    missing: { behaviour: status(404), reason: 'not_found', attempts: 1 },
    forbidden: { behaviour: status(403), reason: 'http_403', attempts: 1 },
    reset: { behaviour: resetMidBody(jpegBytes(4, 200_000), 1000), reason: 'reset', attempts: 3 },
    short: { behaviour: shortBody(jpegBytes(5, 50_000), 20_000), reason: 'truncated', attempts: 3 },
    stalledheaders: { behaviour: stallHeaders(FOREVER_MS, image(jpegBytes(6))), reason: 'timeout', attempts: 3 },
    stalledbody: { behaviour: stallBody(jpegBytes(7, 100_000), 1000), reason: 'timeout', attempts: 3 },
    html: { behaviour: htmlPage(), reason: 'not_image', attempts: 1 },
    endless: { behaviour: endlessBody(), reason: 'too_large', attempts: 1 },
    huge: { behaviour: image(jpegBytes(8, 2 * MiB)), reason: 'too_large', attempts: 1 },
  }

  // One batch holds every behaviour, so their timeouts run side by side; each case is then checked on its own.
  let batch: { result: Awaited<ReturnType<ReturnType<typeof downloaderFor>>>; keys: string[]; origin: OriginFixture }
  beforeAll(async () => {
    const hostile = await startOrigin(Object.fromEntries(Object.entries(cases).map(([code, c]) => [`/${code}.jpg`, c.behaviour])))
    const codes = Object.keys(cases)
    try {
      const result = await downloaderFor({ store: servers.s3, baseUrl: hostile.baseUrl, env: { MAX_IMAGE_BYTES: String(MiB) } })({
        codes,
        concurrency: codes.length,
        prefix: 'flags/hostile/',
      })
      batch = { result, keys: await servers.s3.listKeys(), origin: hostile }
    } finally {
      await hostile.close()
    }
  })

  it('counts every behaviour exactly once', () => {
    const codes = Object.keys(cases)
    expect(batch.result.total).toBe(codes.length)
    expect(batch.result.counter.ok + batch.result.counter.not_found + batch.result.counter.error).toBe(codes.length)
  })

  it.each(Object.entries(cases))('counts %s under its reason and attempts, and stores only a whole image', async (code, expected) => {
    const failure = batch.result.failures.find((f) => f.code === code)
    const requests = batch.origin.requests.filter((path) => path === `/${code}.jpg`).length
    const key = `flags/hostile/${code}.jpg`
    expect({ code, reason: failure?.reason, attempts: failure?.attempts ?? requests }).toEqual({
      code,
      reason: expected.reason,
      attempts: expected.attempts,
    })
    expect({ code, requests }).toEqual({ code, requests: expected.attempts })
    if (expected.contentType === undefined) {
      expect(batch.keys).not.toContain(key)
    } else {
      expect((await servers.s3.getObject(key))?.contentType).toBe(expected.contentType)
    }
  })

  it('waits as long as Retry-After asks before trying again', async () => {
    const flag = jpegBytes(9)
    origin = servers.track(await startOrigin({ '/busy.jpg': failThen(1, status(429, 'slow down', { 'retry-after': '1' }), image(flag)) }))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['busy'], prefix: 'flags/retryafter/' })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    const [first, second] = origin.log
    expect(origin.log).toHaveLength(2)
    expect(second!.atMs - first!.atMs).toBeGreaterThanOrEqual(990)
    expect((await servers.s3.getObject('flags/retryafter/busy.jpg'))?.body).toEqual(flag)
  })

  it('times out an origin that accepts the connection but never completes the TLS handshake', async () => {
    const silent = servers.track(await startSilentServer())

    const result = await downloaderFor({ store: servers.s3, baseUrl: `https://127.0.0.1:${silent.port}`, env: {
      CONNECT_TIMEOUT_MS: '300',
      MAX_ATTEMPTS: '2',
    } })({ codes: ['a'], prefix: 'flags/connect/' })

    expect(result.failures).toEqual([expect.objectContaining({ code: 'a', reason: 'timeout', attempts: 2 })])
    expect(silent.connections).toBe(2)
  })

  it('leaves the object of an earlier run intact when a later run fails', async () => {
    const first = jpegBytes(10, 300_000)
    const routes: Record<string, Behaviour> = {
      '/reset.jpg': image(first),
      '/short.jpg': image(first),
      '/html.jpg': image(first),
      '/huge.jpg': image(first),
    }
    origin = servers.track(await startOrigin(routes))
    const download = downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { MAX_IMAGE_BYTES: String(MiB) } })
    const codes = ['reset', 'short', 'html', 'huge']
    expect((await download({ codes, prefix: 'flags/intact/' })).counter.ok).toBe(4)

    routes['/reset.jpg'] = resetMidBody(jpegBytes(11, 300_000), 100_000)
    routes['/short.jpg'] = shortBody(jpegBytes(11, 300_000), 200_000)
    routes['/html.jpg'] = htmlPage()
    routes['/huge.jpg'] = endlessBody()
    const second = await download({ codes, prefix: 'flags/intact/', force: true })

    expect(second.counter).toEqual({ ok: 0, not_found: 0, error: 4 })
    for (const code of codes) expect((await servers.s3.getObject(`flags/intact/${code}.jpg`))?.body).toEqual(first)
  })

  it('keeps the origin validators and answers a 304 by leaving the object as it is', async () => {
    const v1 = jpegBytes(12)
    const v2 = jpegBytes(13)
    const lastModified = 'Wed, 21 Oct 2026 07:28:00 GMT'
    const routes: Record<string, Behaviour> = { '/flag.jpg': conditionalImage(v1, '"v1"', lastModified) }
    origin = servers.track(await startOrigin(routes))
    const download = downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })
    const request = { codes: ['flag'], prefix: 'flags/conditional/' }
    const key = 'flags/conditional/flag.jpg'

    const first = await download(request)
    const stored = await servers.s3.head(key)
    const second = await download(request)
    const afterSecond = await servers.s3.head(key)
    routes['/flag.jpg'] = conditionalImage(v2, '"v2"', lastModified)
    const third = await download(request)
    const forced = await download({ ...request, force: true })

    expect(first).toMatchObject({ counter: { ok: 1, not_found: 0, error: 0 }, unchanged: 0, bytes: v1.length })
    expect(stored.metadata).toEqual({ 'origin-etag': '"v1"', 'origin-last-modified': lastModified })
    expect(second).toMatchObject({ counter: { ok: 1, not_found: 0, error: 0 }, unchanged: 1, bytes: 0 })
    expect(afterSecond.lastModified).toEqual(stored.lastModified)
    expect(third).toMatchObject({ counter: { ok: 1, not_found: 0, error: 0 }, unchanged: 0, bytes: v2.length })
    expect(forced).toMatchObject({ unchanged: 0, bytes: v2.length })
    expect((await servers.s3.getObject(key))?.body).toEqual(v2)
    expect(origin.log.map((r) => [r.headers['if-none-match'], r.headers['if-modified-since']])).toEqual([
      [undefined, undefined],
      ['"v1"', lastModified],
      ['"v1"', lastModified],
      [undefined, undefined],
    ])
  })

  it('sends S3 a CRC32 of every object and every part, matching the bytes', async () => {
    const small = jpegBytes(14, 100_000)
    const large = jpegBytes(15, 6 * MiB + 7)
    origin = servers.track(await startOrigin({ '/small.jpg': image(small), '/large.jpg': image(large) }))
    const { client, sent } = await recordingS3Client()

    const result = await downloaderFor({ store: { ...servers.s3, client }, baseUrl: origin.baseUrl, env: { MAX_IMAGE_BYTES: String(8 * MiB) } })({
      codes: ['small', 'large'],
      concurrency: 1,
      prefix: 'flags/checksum/',
    })
    client.destroy()

    expect(result.counter.ok).toBe(2)
    const crc = (bytes: Buffer) => {
      const value = Buffer.alloc(4)
      value.writeUInt32BE(crc32(bytes))
      return value.toString('base64')
    }
    const partSize = 5 * MiB
    const uploads = sent.filter((request) => request.method === 'PUT')
    expect(uploads.map((request) => [urlOf(request).pathname, urlOf(request).searchParams.get('partNumber') ?? undefined, request.headers['x-amz-checksum-crc32']])).toEqual([
      ['/imgpull-test-images/flags/checksum/small.jpg', undefined, crc(small)],
      ['/imgpull-test-images/flags/checksum/large.jpg', '1', crc(large.subarray(0, partSize))],
      ['/imgpull-test-images/flags/checksum/large.jpg', '2', crc(large.subarray(partSize))],
    ])
    expect((await servers.s3.getObject('flags/checksum/large.jpg'))?.body.equals(large)).toBe(true)
  })
})

describe('Download engine when S3 fails', () => {
  it('counts every code as an `s3` error when the S3 server is down, and still answers', async () => {
    origin = servers.track(await startOrigin({ '/a.jpg': image(jpegBytes(16)), '/b.jpg': image(jpegBytes(17)) }))
    const down = createS3Client({ localEndpoint: `http://127.0.0.1:${await freePort()}` })
    const store = { ...servers.s3, client: down }

    const checked = await downloaderFor({ store, baseUrl: origin.baseUrl })({ codes: ['a', 'b', 'missing'], prefix: 'flags/s3down/' })
    const forced = await downloaderFor({ store, baseUrl: origin.baseUrl })({ codes: ['a', 'b'], prefix: 'flags/s3down/', force: true })
    down.destroy()

    // Without S3 the stored version cannot be looked up, so nothing is fetched.
    expect(checked.counter).toEqual({ ok: 0, not_found: 0, error: 3 })
    expect(checked.failures.map((f) => [f.code, f.reason, f.attempts])).toEqual([
      ['a', 's3', 0],
      ['b', 's3', 0],
      ['missing', 's3', 0],
    ])
    expect(forced.counter).toEqual({ ok: 0, not_found: 0, error: 2 })
    expect(forced.failures.map((f) => [f.code, f.reason, f.attempts])).toEqual([
      ['a', 's3', 1],
      ['b', 's3', 1],
    ])
  })

  it('counts an upload that S3 drops mid-body as an `s3` error and stores nothing', async () => {
    origin = servers.track(await startOrigin({ '/a.jpg': image(jpegBytes(18, 200_000)), '/b.jpg': image(jpegBytes(19, 300)) }))
    const proxy = servers.track(await startResettingProxy(Number(new URL(servers.s3.endpoint).port), 50_000))
    const flaky = createS3Client({ localEndpoint: `http://127.0.0.1:${proxy.port}` })

    const result = await downloaderFor({ store: { ...servers.s3, client: flaky }, baseUrl: origin.baseUrl })({ codes: ['a', 'b'], prefix: 'flags/s3reset/' })
    flaky.destroy()

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 1 })
    expect(result.failures).toEqual([expect.objectContaining({ code: 'a', reason: 's3', attempts: 1 })])
    expect(await servers.s3.listKeys()).not.toContain('flags/s3reset/a.jpg')
    expect((await servers.s3.getObject('flags/s3reset/b.jpg'))?.body).toEqual(jpegBytes(19, 300))
  })
})

describe('Download engine at the deadline', () => {
  it('aborts running downloads, starts no new ones, and reports each as deadline', async () => {
    const reserveMs = 500
    origin = servers.track(await startOrigin({
      '/quick.jpg': image(jpegBytes(20)),
      '/stalled.jpg': stallHeaders(FOREVER_MS, image(jpegBytes(21))),
      // Sends one whole upload part, then stalls: a multipart upload is under way when time runs out.
      '/midupload.jpg': stallBody(jpegBytes(22, 12 * MiB), 6 * MiB),
    }))
    // A remaining-time clock like Lambda's: 700 ms to work before the reserve.
    const endsAt = performance.now() + reserveMs + 700
    const remainingMs = () => endsAt - performance.now()
    const { client, sent } = await recordingS3Client()
    const download = downloaderFor({ store: { ...servers.s3, client }, baseUrl: origin.baseUrl, env: {
      DEADLINE_RESERVE_MS: String(reserveMs),
      HEADERS_TIMEOUT_MS: '30000',
      BODY_TIMEOUT_MS: '30000',
      MAX_IMAGE_BYTES: String(16 * MiB),
    } })

    const result = await download(
      // Forced: codes take the origin's slots in the order given, not in the order their look-ups end.
      { codes: ['quick', 'stalled', 'midupload', 'later1', 'later2'], concurrency: 2, prefix: 'flags/deadline/', force: true },
      { remainingMs },
    )
    client.destroy()

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 4 })
    expect(result.failures.map((f) => [f.code, f.reason, f.attempts, f.message])).toEqual([
      ['stalled', 'deadline', 1, 'deadline'],
      ['midupload', 'deadline', 1, 'deadline'],
      ['later1', 'deadline', 0, 'deadline'],
      ['later2', 'deadline', 0, 'deadline'],
    ])
    expect(origin.requests).not.toContain('/later1.jpg')
    expect(origin.requests).not.toContain('/later2.jpg')
    expect((await servers.s3.listKeys()).filter((key) => key.startsWith('flags/deadline/'))).toEqual(['flags/deadline/quick.jpg'])
    // The part already uploaded was thrown away with its multipart upload before the run answered.
    const midupload = sent.filter((request) => urlOf(request).pathname.endsWith('/midupload.jpg'))
    expect(midupload.map((request) => request.method)).toEqual(['POST', 'PUT', 'DELETE'])
  })
})
