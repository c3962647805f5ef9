import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { downloaderFor } from '../support/downloader.ts'
import { image, jpegBytes, resetMidBody, startOrigin, status, type OriginFixture } from '../../devkit/originFixture.ts'
import { pass, startS3FaultProxy } from '../../devkit/s3FaultProxy.ts'
import { useIntegrationServers } from '../support/localS3.ts'

let origin: OriginFixture | undefined

const servers = useIntegrationServers()

describe('Download engine against a real origin and a real local S3', () => {
  it('stores 200s byte for byte with the detected Content-Type and counts 404 and 500 without storing them', async () => {
    const flag = jpegBytes(1)
    const photo = jpegBytes(2, 70_000)
    origin = servers.track(await startOrigin({
      '/flag.jpg': image(flag),
      '/photo.jpg': image(photo, { contentType: 'image/png', delayMs: 30 }),
      '/broken.jpg': status(500, 'boom'),
    }))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['FLAG', 'photo', 'missing', 'broken'], prefix: 'flags/it1/' })

    expect(result.counter).toEqual({ ok: 2, not_found: 1, error: 1 })
    expect(result.total).toBe(4)
    expect(result.bucket).toBe(servers.s3.bucket)
    expect(result.prefix).toBe('flags/it1/')
    expect(result.failures).toEqual([
      { code: 'missing', status: 'not_found', reason: 'not_found', attempts: 1, httpStatus: 404, message: 'not found' },
      {
        code: 'broken',
        status: 'error',
        reason: 'http_500',
        attempts: 3,
        httpStatus: 500,
        message: 'origin answered HTTP 500',
      },
    ])
    expect(result.bytes).toBe(flag.length + photo.length)
    expect(await servers.s3.getObject('flags/it1/flag.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
    // The origin calls it a PNG; its bytes say JPEG, and the bytes win.
    expect(await servers.s3.getObject('flags/it1/photo.jpg')).toEqual({ body: photo, contentType: 'image/jpeg' })
    expect(await servers.s3.getObject('flags/it1/missing.jpg')).toBeUndefined()
    expect(await servers.s3.getObject('flags/it1/broken.jpg')).toBeUndefined()
    expect(origin.requests).toEqual(expect.arrayContaining(['/flag.jpg', '/photo.jpg', '/missing.jpg', '/broken.jpg']))
  })

  it('streams an image larger than one upload part whole into S3', async () => {
    const large = jpegBytes(3, 12 * 1024 * 1024 + 123)
    origin = servers.track(await startOrigin({ '/large.jpg': image(large) }))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { MAX_IMAGE_BYTES: String(16 * 1024 * 1024) } })({
      codes: ['large'],
      prefix: 'flags/it2/',
    })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    const stored = await servers.s3.getObject('flags/it2/large.jpg')
    expect(stored?.body.length).toBe(large.length)
    expect(stored?.body.equals(large)).toBe(true)
  })

  it.each([1, 3, 8])('keeps the origin at exactly %i requests in flight and reuses connections', async (cap) => {
    const codes = Array.from({ length: 24 }, (_, i) => `img${i}`)
    origin = servers.track(await startOrigin(
      Object.fromEntries(
        codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i), { delayMs: 20 })]),
      ),
    ))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes, concurrency: cap, prefix: `flags/cap${cap}/` })

    expect(result.counter).toEqual({ ok: codes.length, not_found: 0, error: 0 })
    expect(origin.maxInFlight).toBe(cap)
    expect(origin.requests).toHaveLength(codes.length)
    expect(origin.connections).toBeLessThanOrEqual(cap)
    expect(await servers.s3.listKeys()).toEqual(expect.arrayContaining(codes.map((code) => `flags/cap${cap}/${code}.jpg`)))
  })

  it('counts a body cut off mid-stream as error and stores no partial object', async () => {
    origin = servers.track(await startOrigin({
      '/cut.jpg': resetMidBody(jpegBytes(6, 200_000), 1000),
      '/whole.jpg': image(jpegBytes(7)),
    }))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['cut', 'whole'], prefix: 'flags/it5/' })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 1 })
    expect(result.failures).toEqual([
      { code: 'cut', status: 'error', reason: 'reset', attempts: 3, message: expect.stringMatching(/^origin: /) as string },
    ])
    expect((await servers.s3.listKeys()).filter((key) => key.startsWith('flags/it5/'))).toEqual(['flags/it5/whole.jpg'])
  })

  it('counts an origin that refuses connections as error for every code', async () => {
    const closed = await startOrigin({})
    const closedBaseUrl = closed.baseUrl
    await closed.close()

    const result = await downloaderFor({ store: servers.s3, baseUrl: closedBaseUrl })({ codes: ['a', 'b', 'c'], prefix: 'flags/it3/' })

    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 3 })
    for (const failure of result.failures) {
      expect(failure).toMatchObject({ reason: 'network', attempts: 3, message: expect.stringMatching(/^origin: .*ECONNREFUSED/) as string })
    }
    expect(result.failures.map((failure) => failure.code)).toEqual(['a', 'b', 'c'])
  })

  it('counts an S3 failure as error, loses no code and stores nothing', async () => {
    origin = servers.track(await startOrigin({
      '/a.jpg': image(jpegBytes(4)),
      '/b.jpg': image(jpegBytes(5)),
    }))

    const result = await downloaderFor({ store: { ...servers.s3, bucket: 'no-such-bucket' }, baseUrl: origin.baseUrl })({ codes: ['a', 'b', 'gone'], prefix: 'flags/it4/' })

    expect(result.counter).toEqual({ ok: 0, not_found: 1, error: 2 })
    expect(result.failures.filter((failure) => failure.status === 'error').map((failure) => failure.message)).toEqual([
      expect.stringMatching(/^store: /),
      expect.stringMatching(/^store: /),
    ])
    expect((await servers.s3.listKeys()).filter((key) => key.startsWith('flags/it4/'))).toEqual([])
  })

  it('fetches and stores codes that name one object once, and counts the merged duplicates', async () => {
    const flag = jpegBytes(8)
    origin = servers.track(await startOrigin({ '/dup.jpg': image(flag), '/other.jpg': image(jpegBytes(9)) }))
    const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, () => pass))
    const client = createS3Client({ localEndpoint: proxy.endpoint })

    const result = await downloaderFor({ store: { ...servers.s3, client }, baseUrl: origin.baseUrl })({
      codes: ['dup', 'DUP', 'other', 'dup'],
      prefix: 'flags/it6/',
    })
    client.destroy()

    expect(result).toMatchObject({ counter: { ok: 2, not_found: 0, error: 0 }, total: 2, duplicates: 2, failures: [] })
    expect(origin.requests.sort()).toEqual(['/dup.jpg', '/other.jpg'])
    expect(proxy.requests.filter((request) => request.method === 'PUT').map((request) => request.url).sort()).toEqual([
      '/imgpull-test-images/flags/it6/dup.jpg',
      '/imgpull-test-images/flags/it6/other.jpg',
    ])
    expect(await servers.s3.getObject('flags/it6/dup.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
  })

  it('rejects an invalid request before anything is fetched', async () => {
    origin = servers.track(await startOrigin({}))
    await expect(downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['a/b'] })).rejects.toThrow(/^codes\[0\] "a\/b": may only contain/)
    expect(origin.requests).toEqual([])
  })
})
