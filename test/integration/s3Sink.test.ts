import { PutObjectCommand } from '@aws-sdk/client-s3'
import type { IncomingHttpHeaders } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { KEYS_PER_LISTING, MIN_KEYS_TO_LIST, s3ObjectSink } from '../../lib/adapters/s3/objectSink.ts'
import { image, jpegBytes, startOrigin } from '../../devkit/originFixture.ts'
import { pass, startS3FaultProxy, type ProxiedRequest, type S3Fault } from '../../devkit/s3FaultProxy.ts'
import { signatureProblem } from '../../devkit/sigv4.ts'
import { downloaderFor } from '../support/downloader.ts'
import { useIntegrationServers } from '../support/localS3.ts'

const servers = useIntegrationServers()
// The local S3 server's development key, which the client signs with.
const LOCAL_SECRET = 'S3RVER'
const LOCAL_SCOPE = { region: 'us-east-1', service: 's3' }

/** A batch of `codes` through a proxy in front of the local S3 that records (and may fail) what S3 receives. */
async function runBatch(
  codes: readonly string[],
  prefix: string,
  {
    force = false,
    decide = () => pass,
    size = 3000,
    clockOffsetMs = 0,
  }: {
    force?: boolean
    decide?: (method: string, url: string, index: number, headers: IncomingHttpHeaders) => S3Fault
    size?: number
    clockOffsetMs?: number
  } = {},
) {
  const bytes = new Map(codes.map((code, i) => [code, jpegBytes(i, size)]))
  const origin = servers.track(await startOrigin(Object.fromEntries([...bytes].map(([code, body]) => [`/${code}.jpg`, image(body)]))))
  const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, decide, { clockOffsetMs }))
  const client = createS3Client({ localEndpoint: proxy.endpoint })
  try {
    const env = { MAX_IMAGE_BYTES: String(Math.max(size, 1024 * 1024)) }
    const result = await downloaderFor({ store: { ...servers.s3, client }, baseUrl: origin.baseUrl, env })({ codes: [...codes], prefix, force, concurrency: 8 })
    return { result, requests: proxy.requests, bytes }
  } finally {
    client.destroy()
  }
}

const kindOf = (request: ProxiedRequest) => (request.url.includes('list-type=2') ? 'LIST' : request.method)
const pathOf = (request: ProxiedRequest) => new URL(request.url, 'http://s3.test').pathname

async function storeDirectly(keys: readonly string[]) {
  for (const key of keys) {
    await servers.s3.client.send(new PutObjectCommand({ Bucket: servers.s3.bucket, Key: key, Body: 'x', ContentType: 'image/jpeg' }))
  }
}

describe('S3 object sink: signed requests', () => {
  it('signs every request S3 receives (look-ups, listings, single PUTs, multipart) so that SigV4 verifies', async () => {
    const codes = Array.from({ length: MIN_KEYS_TO_LIST + 5 }, (_, i) => `sig${i}`)
    await storeDirectly(['flags/signed/sig3.jpg'])
    const { result, requests } = await runBatch(codes, 'flags/signed/')
    // Larger than a part: a multipart upload, signed by the SDK itself.
    const large = await runBatch(['big'], 'flags/signed-large/', { force: true, size: 6 * 1024 * 1024 })

    expect(result.counter).toEqual({ ok: codes.length, not_found: 0, error: 0 })
    expect(large.result.counter.ok).toBe(1)
    const all = [...requests, ...large.requests]
    expect(new Set(all.map(kindOf))).toEqual(new Set(['LIST', 'HEAD', 'PUT', 'POST']))
    for (const request of all) expect(await signatureProblem(request, LOCAL_SECRET, LOCAL_SCOPE), `${request.method} ${request.url}`).toBeUndefined()
    // The check itself fails a request changed after signing.
    const tampered = { ...requests.find((request) => request.method === 'PUT')!, url: '/imgpull-test-images/flags/signed/other.jpg' }
    expect(await signatureProblem(tampered, LOCAL_SECRET, LOCAL_SCOPE)).toMatch(/^signature /)
  })

  it('retries a PUT that S3 answers 503 SlowDown, as the SDK strategy does, and stores the object whole', async () => {
    let refused = 0
    const { result, requests, bytes } = await runBatch(['slow'], 'flags/slowdown/', {
      force: true,
      decide: (method) => (method === 'PUT' && refused++ < 2 ? { kind: 'status', status: 503, code: 'SlowDown' } : pass),
    })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    expect(requests.filter((request) => request.method === 'PUT').map((request) => request.fault)).toEqual(['status', 'status', 'pass'])
    expect((await servers.s3.getObject('flags/slowdown/slow.jpg'))?.body.equals(bytes.get('slow')!)).toBe(true)
  })

  it('does not retry a PUT that S3 refuses with a client error, and counts it as an s3 error with S3 code', async () => {
    const { result, requests } = await runBatch(['denied'], 'flags/denied/', {
      force: true,
      decide: (method) => (method === 'PUT' ? { kind: 'status', status: 400, code: 'InvalidRequest' } : pass),
    })

    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 1 })
    expect(result.failures[0]).toMatchObject({ reason: 's3', message: expect.stringMatching(/^store: PUT flags\/denied\/denied\.jpg: HTTP 400 InvalidRequest/) as string })
    expect(requests.filter((request) => request.method === 'PUT')).toHaveLength(1)
    expect(await servers.s3.listKeys()).not.toContain('flags/denied/denied.jpg')
  })

  it('corrects its clock when S3 says the request time is too skewed, and signs the retry with S3 time', async () => {
    const { result, requests } = await runBatch(['skew'], 'flags/skew/', { force: true, decide: skewedS3, clockOffsetMs: S3_AHEAD_MS })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    const puts = requests.filter((request) => request.method === 'PUT')
    expect(puts.map((request) => request.fault)).toEqual(['status', 'pass'])
    expect(Math.abs(signedAt(puts[1]!) - S3_AHEAD_MS - Date.now())).toBeLessThan(60_000)
  })

  it('retries every request signed before another one corrected the clock, not only the one that did', async () => {
    const codes = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']
    const { result, requests } = await runBatch(codes, 'flags/skew-many/', { force: true, decide: skewedS3, clockOffsetMs: S3_AHEAD_MS })

    expect(result.counter).toEqual({ ok: codes.length, not_found: 0, error: 0 })
    const refused = requests.filter((request) => request.method === 'PUT' && request.fault === 'status')
    // Several were in flight with the old clock at once; each was signed again and stored.
    expect(refused.length).toBeGreaterThan(1)
    expect(requests.filter((request) => request.method === 'PUT' && request.fault === 'pass')).toHaveLength(codes.length)
  })
})

// Ten minutes ahead: past the five that make a client correct its clock, within the local S3's fifteen.
const S3_AHEAD_MS = 10 * 60_000

/** When a request was signed, from its x-amz-date. */
function signedAt(request: { readonly headers: IncomingHttpHeaders }): number {
  return Date.parse(String(request.headers['x-amz-date']).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))
}

/** An S3 whose clock is ahead (its answers' Date says so too): a PUT signed more than five minutes from its time is refused as S3 refuses it. */
function skewedS3(method: string, _url: string, _index: number, headers: IncomingHttpHeaders): S3Fault {
  const serverTime = Date.now() + S3_AHEAD_MS
  if (method !== 'PUT' || Math.abs(signedAt({ headers }) - serverTime) < 5 * 60_000) return pass
  return { kind: 'status', status: 403, code: 'RequestTimeTooSkewed', date: new Date(serverTime) }
}

describe('S3 object sink: which keys need a look-up', () => {
  it('looks up only the keys a listing found stored, and fetches the rest without one', async () => {
    const codes = Array.from({ length: 30 }, (_, i) => `l${String(i).padStart(2, '0')}`)
    const stored = codes.filter((_, i) => i % 3 === 0)
    await storeDirectly(stored.map((code) => `flags/listed/${code}.jpg`))
    // An object outside the batch, between its first and last key, is listed and ignored.
    await storeDirectly(['flags/listed/l05x.jpg'])

    const { result, requests } = await runBatch(codes, 'flags/listed/')

    expect(result.counter).toEqual({ ok: 30, not_found: 0, error: 0 })
    expect(requests.filter((request) => kindOf(request) === 'LIST')).toHaveLength(1)
    expect(requests.filter((request) => request.method === 'HEAD').map(pathOf).sort()).toEqual(
      stored.map((code) => `/${servers.s3.bucket}/flags/listed/${code}.jpg`),
    )
  })

  it('looks up every key when the listing is refused, and still counts each once', async () => {
    const codes = Array.from({ length: 25 }, (_, i) => `r${i}`)
    const { result, requests } = await runBatch(codes, 'flags/refused/', {
      decide: (method, url) => (url.includes('list-type=2') ? { kind: 'status', status: 403, code: 'AccessDenied' } : pass),
    })

    expect(result.counter).toEqual({ ok: 25, not_found: 0, error: 0 })
    expect(requests.filter((request) => request.method === 'HEAD')).toHaveLength(25)
  })

  it('lists no more pages than the batch allows, and leaves the keys past the last listed one to look-ups', async () => {
    // 1100 objects between the batch's first key and its last: one page (its budget at 21 keys) ends among them.
    const filler = Array.from({ length: 1100 }, (_, i) => `flags/paged/m${String(i).padStart(4, '0')}.jpg`)
    await Promise.all(Array.from({ length: 10 }, (_, worker) => storeDirectly(filler.filter((_, i) => i % 10 === worker))))
    const early = Array.from({ length: 20 }, (_, i) => `flags/paged/a${i}.jpg`)
    const late = 'flags/paged/z.jpg'
    const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, () => pass))
    const client = createS3Client({ localEndpoint: proxy.endpoint })
    const sink = s3ObjectSink(client, servers.s3.bucket)

    const withoutObject = await sink.keysWithoutObject!([late, ...early], AbortSignal.timeout(10_000))
    client.destroy()

    expect(Math.ceil(21 / KEYS_PER_LISTING)).toBe(1)
    expect(proxy.requests.filter((request) => kindOf(request) === 'LIST')).toHaveLength(1)
    expect([...withoutObject].sort()).toEqual([...early].sort())
  })
})
