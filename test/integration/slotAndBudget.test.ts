import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { image, jpegBytes, startOrigin } from '../../devkit/originFixture.ts'
import { isUpload, pass, startS3FaultProxy } from '../../devkit/s3FaultProxy.ts'
import { downloaderFor } from '../support/downloader.ts'
import { useIntegrationServers } from '../support/localS3.ts'

const servers = useIntegrationServers()
const MiB = 1024 * 1024

describe('The origin slot', () => {
  it('is given up once a body is read: uploads wait for S3 outside it, and the next request goes out', async () => {
    const codes = ['s0', 's1', 's2', 's3', 's4']
    const origin = servers.track(await startOrigin(Object.fromEntries(codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i))]))))
    const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, (method) => (isUpload(method) ? { kind: 'stall' } : pass)))
    const client = createS3Client({ localEndpoint: proxy.endpoint })
    const endsAt = performance.now() + 3000
    const result = await downloaderFor({ store: { ...servers.s3, client }, baseUrl: origin.baseUrl, env: { DEADLINE_RESERVE_MS: '1000' } })(
      { codes, concurrency: 1, prefix: 'flags/slot/' },
      { remainingMs: () => endsAt - performance.now() },
    )
    client.destroy()

    // One slot, and not one upload answered: every image was still fetched, one at a time.
    expect(origin.requests.sort()).toEqual(codes.map((code) => `/${code}.jpg`))
    expect(origin.maxInFlight).toBe(1)
    expect(proxy.requests.filter((request) => isUpload(request.method))).toHaveLength(codes.length)
    expect(result.failures.map((failure) => failure.reason)).toEqual(codes.map(() => 'deadline'))
  })
})

describe('The memory budget', () => {
  it('holds new origin requests back while the bodies read and waiting for S3 fill it', async () => {
    const codes = Array.from({ length: 40 }, (_, i) => `m${i}`)
    const origin = servers.track(await startOrigin(Object.fromEntries(codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i, MiB))]))))
    // S3 takes every upload and never answers: each body read stays in memory until the deadline.
    const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, (method) => (isUpload(method) ? { kind: 'stall' } : pass)))
    const client = createS3Client({ localEndpoint: proxy.endpoint })
    const endsAt = performance.now() + 4000
    const result = await downloaderFor({
      store: { ...servers.s3, client },
      baseUrl: origin.baseUrl,
      // 32 MiB, of which 15 MiB are kept for one streamed body: 17 bodies of 1 MiB at once.
      env: { MEMORY_BUDGET_MB: '32', STORE_CONCURRENCY: '64', DEADLINE_RESERVE_MS: '1000' },
    })({ codes, concurrency: codes.length, prefix: 'flags/budget/', force: true }, { remainingMs: () => endsAt - performance.now() })
    client.destroy()

    const uploads = proxy.requests.filter((request) => isUpload(request.method))
    expect(uploads.length).toBeGreaterThan(0)
    expect(uploads.length).toBeLessThanOrEqual(17)
    // An attempt that fails before the deadline (on a loaded machine one can) gives its bytes
    // back, and lets one more request out: at most 17, plus one per attempt tried again.
    const failedAttempts = result.failures.reduce((sum, failure) => sum + failure.attempts - 1, 0)
    expect(origin.requests.length).toBeLessThanOrEqual(17 + failedAttempts)
    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: codes.length })
    expect(new Set(result.failures.map((failure) => failure.reason))).toEqual(new Set(['deadline']))
  })

  it('lets the same batch through whole when S3 answers', async () => {
    const codes = Array.from({ length: 40 }, (_, i) => `n${i}`)
    const origin = servers.track(await startOrigin(Object.fromEntries(codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i, MiB))]))))
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { MEMORY_BUDGET_MB: '32' } })({
      codes,
      concurrency: codes.length,
      prefix: 'flags/budget-ok/',
      force: true,
    })
    expect(result.counter).toEqual({ ok: codes.length, not_found: 0, error: 0 })
    expect(result.bytes).toBe(codes.length * MiB)
  })
})

describe('The origin slot and the memory budget with bodies of every kind', () => {
  it('closes the request of an image refused by its Content-Length before it gives the slot up', async () => {
    const huge = jpegBytes(1, 20 * MiB)
    const codes = ['h0', 'h1', 'h2', 'h3', 'h4']
    const origin = servers.track(await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(huge)]))))
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { MAX_IMAGE_BYTES: String(MiB) } })({
      codes,
      concurrency: 1,
      prefix: 'flags/huge-cl/',
    })
    expect(new Set(result.failures.map((failure) => failure.reason))).toEqual(new Set(['too_large']))
    expect(origin.maxInFlight).toBe(1)
  })

  it('blames S3, not the origin, when S3 is slow to take a streamed body, and fetches it once', async () => {
    const large = jpegBytes(2, 6 * MiB)
    const origin = servers.track(await startOrigin({ '/large.jpg': image(large) }))
    const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, (method) => (isUpload(method) ? { kind: 'delay', ms: 600 } : pass)))
    const client = createS3Client({ localEndpoint: proxy.endpoint })
    const result = await downloaderFor({
      store: { ...servers.s3, client },
      baseUrl: origin.baseUrl,
      env: { ATTEMPT_TIMEOUT_MS: '300', MAX_IMAGE_BYTES: String(8 * MiB) },
    })({ codes: ['large'], prefix: 'flags/slow-stream/' })
    client.destroy()
    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    expect(origin.requests).toEqual(['/large.jpg'])
    expect((await servers.s3.getObject('flags/slow-stream/large.jpg'))?.body.equals(large)).toBe(true)
  })

  it('keeps the full concurrency for small bodies of unknown length', async () => {
    const codes = Array.from({ length: 60 }, (_, i) => `u${i}`)
    const origin = servers.track(
      await startOrigin(Object.fromEntries(codes.map((code, i) => [`/${code}.jpg`, image(jpegBytes(i, 20_000), { chunked: true, delayMs: 50 })]))),
    )
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { MEMORY_BUDGET_MB: '32' } })({
      codes,
      concurrency: 20,
      prefix: 'flags/chunked/',
      force: true,
    })
    expect(result.counter).toEqual({ ok: codes.length, not_found: 0, error: 0 })
    expect(origin.maxInFlight).toBe(20)
  })
})
