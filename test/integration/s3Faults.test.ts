import { describe, expect, it } from 'vitest'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { downloaderFor } from '../support/downloader.ts'
import { useIntegrationServers } from '../support/localS3.ts'
import { image, jpegBytes, startOrigin, type OriginFixture } from '../../devkit/originFixture.ts'
import { isUpload, pass, startS3FaultProxy, type S3Fault } from '../../devkit/s3FaultProxy.ts'

const servers = useIntegrationServers()

/** A Lambda-like clock: `budgetMs` from now until the function is stopped. */
function functionClock(budgetMs: number): () => number {
  const end = performance.now() + budgetMs
  return () => end - performance.now()
}

async function originOf(codes: readonly string[], size = 2048, { withEtags = false } = {}): Promise<{ origin: OriginFixture; bytes: Map<string, Buffer> }> {
  const bytes = new Map(codes.map((code, i) => [code, jpegBytes(i, size)]))
  const served = (code: string, body: Buffer) => image(body, withEtags ? { etag: `"${code}-v1"` } : {})
  const origin = servers.track(await startOrigin(Object.fromEntries([...bytes].map(([code, body]) => [`/${code}.jpg`, served(code, body)]))))
  return { origin, bytes }
}

/** Runs a batch through the fault proxy within a function's time, and times the answer. */
async function runThroughProxy(
  origin: OriginFixture,
  codes: readonly string[],
  prefix: string,
  decide: (method: string, url: string, index: number) => S3Fault,
  { budgetMs = 8000, concurrency = 8 }: { budgetMs?: number; concurrency?: number } = {},
) {
  const proxy = servers.track(await startS3FaultProxy(servers.s3.endpoint, decide))
  const client = createS3Client({ localEndpoint: proxy.endpoint })
  const startedAt = performance.now()
  try {
    const result = await downloaderFor({ store: { ...servers.s3, client }, baseUrl: origin.baseUrl, env: { DEADLINE_RESERVE_MS: '1500' } })(
      { codes: [...codes], concurrency, prefix },
      { remainingMs: functionClock(budgetMs) },
    )
    return { result, answeredMs: performance.now() - startedAt, proxy }
  } finally {
    client.destroy()
  }
}

/** Every object under the prefix is whole: byte for byte what the origin served. */
async function expectOnlyWholeObjects(prefix: string, bytes: Map<string, Buffer>, okCodes: readonly string[]) {
  const keys = (await servers.s3.listKeys()).filter((key) => key.startsWith(prefix))
  expect(keys.sort()).toEqual(okCodes.map((code) => `${prefix}${code}.jpg`).sort())
  for (const code of okCodes) expect((await servers.s3.getObject(`${prefix}${code}.jpg`))?.body.equals(bytes.get(code)!)).toBe(true)
}

describe('S3 that stalls, slows or fails', () => {
  it('answers before the function timeout with every code counted when one PUT in five never answers', async () => {
    const codes = Array.from({ length: 60 }, (_, i) => `s${i}`)
    const { origin, bytes } = await originOf(codes)
    let uploads = 0
    const { result, answeredMs } = await runThroughProxy(origin, codes, 'flags/s3-stall/', (method) => {
      if (!isUpload(method)) return pass
      uploads += 1
      return uploads % 5 === 0 ? { kind: 'stall' } : pass
    })

    expect(answeredMs).toBeLessThan(8000)
    expect(result.counter.ok + result.counter.not_found + result.counter.error).toBe(codes.length)
    expect(result.failures.every((failure) => failure.reason === 'deadline' || failure.reason === 's3')).toBe(true)
    expect(result.failures.length).toBeGreaterThan(0)
    const ok = codes.filter((code) => !result.failures.some((failure) => failure.code === code))
    await expectOnlyWholeObjects('flags/s3-stall/', bytes, ok)
  })

  it('answers before the function timeout when every S3 upload is slow, cutting short the ones in flight', async () => {
    const codes = Array.from({ length: 60 }, (_, i) => `w${i}`)
    const { origin, bytes } = await originOf(codes)
    // Each upload outlasts the time kept back to answer: only aborting it can keep the answer in time.
    const { result, answeredMs } = await runThroughProxy(
      origin,
      codes,
      'flags/s3-slow/',
      (method) => (isUpload(method) ? { kind: 'delay', ms: 5000 } : pass),
      { budgetMs: 4000 },
    )

    expect(answeredMs).toBeLessThan(4000)
    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: codes.length })
    expect(new Set(result.failures.map((failure) => failure.reason))).toEqual(new Set(['deadline']))
    expect(result.failuresTotal).toBe(codes.length)
    await expectOnlyWholeObjects('flags/s3-slow/', bytes, [])
  })

  it('counts ok the images S3 stored whose answers the deadline cut off', async () => {
    const codes = Array.from({ length: 12 }, (_, i) => `l${i}`)
    const { origin, bytes } = await originOf(codes, 2048, { withEtags: true })
    // S3 stores every PUT at once, but its answers come only after the deadline (4 s less the 1.5 s reserve).
    const { result } = await runThroughProxy(origin, codes, 'flags/s3-late/', (method) => (isUpload(method) ? { kind: 'answerLate', ms: 4000 } : pass), { budgetMs: 4000 })

    expect(result.counter).toEqual({ ok: codes.length, not_found: 0, error: 0 })
    await expectOnlyWholeObjects('flags/s3-late/', bytes, codes)
  })

  it('counts ok a 6 MiB image whose multipart upload S3 completed as the deadline cut off its answer', async () => {
    const codes = ['big0', 'big1']
    const { origin, bytes } = await originOf(codes, 6 * 1024 * 1024, { withEtags: true })
    const completing = (method: string, url: string) => method === 'POST' && url.includes('uploadId=')
    const { result, proxy } = await runThroughProxy(origin, codes, 'flags/s3-late-parts/', (method, url) => (completing(method, url) ? { kind: 'answerLate', ms: 60_000 } : pass), {
      budgetMs: 8000,
      concurrency: 2,
    })

    expect(proxy.requests.filter((request) => completing(request.method, request.url))).toHaveLength(2)
    expect(result.counter).toEqual({ ok: 2, not_found: 0, error: 0 })
    await expectOnlyWholeObjects('flags/s3-late-parts/', bytes, codes)
  })

  it('blames S3, not the origin, when S3 refuses the parts of a multipart upload, and fetches each image once', async () => {
    const codes = ['m0', 'm1', 'm2']
    const { origin, bytes } = await originOf(codes, 6 * 1024 * 1024)
    const { result, proxy } = await runThroughProxy(origin, codes, 'flags/s3-parts/', (method, url) =>
      method === 'PUT' && url.includes('partNumber=') ? { kind: 'status', status: 503 } : pass,
    { budgetMs: 60_000, concurrency: 3 })

    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 3 })
    for (const failure of result.failures) {
      expect(failure).toMatchObject({ status: 'error', reason: 's3', attempts: 1, message: expect.stringMatching(/^store: /) as string })
    }
    expect(origin.requests.sort()).toEqual(['/m0.jpg', '/m1.jpg', '/m2.jpg'])
    expect(proxy.requests.some((request) => request.method === 'DELETE')).toBe(true)
    await expectOnlyWholeObjects('flags/s3-parts/', bytes, [])
  })
})
