import { describe, expect, it } from 'vitest'
import { MAX_FAILURES_LISTED } from '../../lib/download/report.ts'
import { downloaderFor } from '../support/downloader.ts'
import { startRawOrigin } from '../../devkit/faultyNetwork.ts'
import { useIntegrationServers } from '../support/localS3.ts'
import { dripBody, image, jpegBytes, startOrigin, status } from '../../devkit/originFixture.ts'

// Defects a hostile probe found, each through a real loopback origin and the real local S3.

const servers = useIntegrationServers()

/** A Lambda-like clock: `budgetMs` from now until the function is stopped. */
function functionClock(budgetMs: number): () => number {
  const end = performance.now() + budgetMs
  return () => end - performance.now()
}

const JPEG_ANSWER = (() => {
  const body = jpegBytes(1, 64)
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: ${body.length}\r\n\r\n`), body])
})()

describe('An origin that drips its body', () => {
  it('fails a body slower than MIN_BODY_RATE as a timeout, retried, and frees the slot for the codes behind it', async () => {
    const origin = servers.track(
      await startOrigin({
        '/drip.jpg': dripBody(jpegBytes(1, 4096), 300),
        '/a.jpg': image(jpegBytes(2)),
        '/b.jpg': image(jpegBytes(3)),
      }),
    )
    const startedAt = performance.now()
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { BODY_TIMEOUT_MS: '1000', MIN_BODY_RATE: '1024' } })(
      { codes: ['drip', 'a', 'b'], concurrency: 1, prefix: 'flags/drip/' },
      { remainingMs: functionClock(20_000) },
    )

    expect(result.counter).toEqual({ ok: 2, not_found: 0, error: 1 })
    expect(result.failures).toEqual([
      expect.objectContaining({ code: 'drip', reason: 'timeout', attempts: 3, message: expect.stringMatching(/slower than 1024$/) as string }),
    ])
    expect(origin.requests.filter((path) => path === '/drip.jpg')).toHaveLength(3)
    expect(performance.now() - startedAt).toBeLessThan(10_000)
    expect(await servers.s3.getObject('flags/drip/drip.jpg')).toBeUndefined()
  })

  it('bounds the whole attempt by ATTEMPT_TIMEOUT_MS even when the body keeps up any rate', async () => {
    const origin = servers.track(await startOrigin({ '/slow.jpg': dripBody(jpegBytes(4, 4096), 100) }))
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { MIN_BODY_RATE: '0', ATTEMPT_TIMEOUT_MS: '700', MAX_ATTEMPTS: '2' } })({
      codes: ['slow'],
      prefix: 'flags/slow/',
    })

    expect(result.failures).toEqual([
      expect.objectContaining({ code: 'slow', reason: 'timeout', attempts: 2, message: 'origin: attempt took longer than 700 ms' }),
    ])
    expect(origin.log.filter((request) => request.path === '/slow.jpg')).toHaveLength(2)
  })

  it('does not let dripping origins filling every slot starve the rest of a batch', async () => {
    const drips = Array.from({ length: 16 }, (_, i) => `drip${i}`)
    const fast = Array.from({ length: 200 }, (_, i) => `fast${i}`)
    const origin = servers.track(
      await startOrigin({
        ...Object.fromEntries(drips.map((code, i) => [`/${code}.jpg`, dripBody(jpegBytes(i, 4096), 300)])),
        ...Object.fromEntries(fast.map((code, i) => [`/${code}.jpg`, image(jpegBytes(100 + i))])),
      }),
    )
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { BODY_TIMEOUT_MS: '1000', MIN_BODY_RATE: '1024', MAX_ATTEMPTS: '2' } })(
      { codes: [...drips, ...fast], concurrency: drips.length, prefix: 'flags/starve/' },
      { remainingMs: functionClock(15_000) },
    )

    expect(result.counter).toEqual({ ok: fast.length, not_found: 0, error: drips.length })
    expect(new Set(result.failures.map((failure) => failure.reason))).toEqual(new Set(['timeout']))
  })
})

describe('A hostile origin cannot inflate the answer', () => {
  it('keeps the answer small when a thousand codes redirect to a 15 KB host name', async () => {
    const hugeHost = `${'h'.repeat(15_000)}.example`
    const codes = Array.from({ length: 1000 }, (_, i) => `r${i}`)
    const origin = servers.track(
      await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, status(302, '', { location: `http://${hugeHost}/x.jpg` })]))),
    )
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes, concurrency: 50, prefix: 'flags/huge/' })

    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 1000 })
    expect(result.failuresTotal).toBe(1000)
    expect(result.failures).toHaveLength(MAX_FAILURES_LISTED)
    for (const failure of result.failures) {
      expect(failure.reason).toBe('blocked')
      expect(failure.message.length).toBeLessThanOrEqual(300)
    }
    expect(JSON.stringify(result).length).toBeLessThan(100_000)
  })
})

describe('Origin answers that are not what they seem', () => {
  it.each([600, 999])('counts status %i as a final error, not a retried 5xx', async (code) => {
    const origin = servers.track(await startOrigin({ '/odd.jpg': status(code) }))
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['odd'], prefix: 'flags/odd/' })
    expect(result.failures).toEqual([expect.objectContaining({ reason: `http_${code}`, attempts: 1, httpStatus: code })])
    expect(origin.requests).toEqual(['/odd.jpg'])
  })

  it('counts an unrequested 100 Continue as a bad response, once, not as a reset tried three times', async () => {
    const raw = servers.track(await startRawOrigin(Buffer.concat([Buffer.from('HTTP/1.1 100 Continue\r\n\r\n'), JPEG_ANSWER])))
    const result = await downloaderFor({ store: servers.s3, baseUrl: raw.baseUrl })({ codes: ['a'], prefix: 'flags/continue/' })
    expect(result.failures).toEqual([expect.objectContaining({ code: 'a', status: 'error', reason: 'bad_response', attempts: 1 })])
    expect(raw.connections).toBe(1)
  })

  it('names the scheme of a redirect to a URL that has no origin', async () => {
    const origin = servers.track(await startOrigin({ '/file.jpg': status(302, '', { location: 'file:///etc/passwd' }) }))
    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['file'], prefix: 'flags/file/' })
    expect(result.failures).toEqual([
      expect.objectContaining({ reason: 'blocked', message: 'origin: redirect to file:// refused: must use http or https' }),
    ])
  })
})
