import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { runDownloads } from '../../../lib/download/engine.ts'
import { imageUrl, objectKey } from '../../../lib/download/keys.ts'
import { TransportError } from '../../../lib/download/errors.ts'
import type { ImageRequest, ImageSource, ObjectSink, OriginHeaders, OriginResponse, OriginValidators } from '../../../lib/download/ports.ts'
import type { DownloadPlan } from '../../../lib/download/request.ts'
import { testSettings } from './testSettings.ts'

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

const settings = testSettings

function plan(codes: string[], extra: Partial<DownloadPlan> = {}): DownloadPlan {
  return { codes, baseUrl: 'https://origin.test/a1', concurrency: 3, prefix: 'flags/', force: false, duplicates: 0, ...extra }
}

function answer(status: number, body: Buffer = JPEG, headers: OriginHeaders = {}): OriginResponse {
  return { status, headers, body: Readable.from([body]), discard: async () => undefined }
}

type Script = (request: ImageRequest, attempt: number) => OriginResponse | Promise<OriginResponse>

/** A source that answers each URL by its script (called with the attempt number); unknown URLs are 404. */
function scriptedSource(scripts: Record<string, Script>): ImageSource & { requests: ImageRequest[] } {
  const requests: ImageRequest[] = []
  const attempts = new Map<string, number>()
  return {
    requests,
    async get(request) {
      requests.push(request)
      const attempt = (attempts.get(request.url) ?? 0) + 1
      attempts.set(request.url, attempt)
      const script = scripts[request.url.replace('https://origin.test/a1/', '')]
      return script === undefined ? answer(404, Buffer.from('no')) : script(request, attempt)
    },
  }
}

interface Stored {
  body: Buffer
  contentType: string
  validators: OriginValidators
}

/** A sink keeping whole objects in memory; keys listed in `failing` are refused. */
function memorySink(failing: string[] = []): ObjectSink & { stored: Map<string, Stored> } {
  const stored = new Map<string, Stored>()
  return {
    stored,
    async validatorsOf(key) {
      return stored.get(key)?.validators
    },
    async put({ key, body, contentType, validators }) {
      const bytes = Buffer.isBuffer(body) ? body : await buffer(body)
      if (failing.includes(key)) throw new Error('Access Denied')
      stored.set(key, { body: bytes, contentType, validators })
    },
  }
}

describe('Function: objectKey and imageUrl', () => {
  it('lower-cases the code in both the key and the URL', () => {
    expect(objectKey('flags/', 'PMS_1.A')).toBe('flags/pms_1.a.jpg')
    expect(imageUrl('https://origin.test/a1', 'PMS_1.A')).toBe('https://origin.test/a1/pms_1.a.jpg')
  })
})

describe('Function: runDownloads', () => {
  it('counts every code exactly once, with a reason and the attempts made for each failure', async () => {
    const source = scriptedSource({
      'a.jpg': () => answer(200),
      'c.jpg': () => answer(500),
      'd.jpg': () => Promise.reject(new TransportError('network', 'connect ECONNREFUSED')),
      'e.jpg': () => answer(200),
      'f.jpg': () => answer(403),
    })
    const sink = memorySink(['flags/e.jpg'])

    const report = await runDownloads(plan(['A', 'b', 'c', 'd', 'e', 'f']), settings, { source, sink })

    expect(report.counter).toEqual({ ok: 1, not_found: 1, error: 4 })
    expect(report.total).toBe(6)
    expect(report.bytes).toBe(JPEG.length)
    expect(report.failures).toEqual([
      { code: 'b', status: 'not_found', reason: 'not_found', attempts: 1, httpStatus: 404, message: 'not found' },
      { code: 'c', status: 'error', reason: 'http_500', attempts: 3, httpStatus: 500, message: 'origin answered HTTP 500' },
      { code: 'd', status: 'error', reason: 'network', attempts: 3, message: 'origin: connect ECONNREFUSED' },
      { code: 'e', status: 'error', reason: 's3', attempts: 1, message: 'store: Access Denied' },
      { code: 'f', status: 'error', reason: 'http_403', attempts: 1, httpStatus: 403, message: 'origin answered HTTP 403' },
    ])
    expect([...sink.stored.keys()]).toEqual(['flags/a.jpg'])
    expect(sink.stored.get('flags/a.jpg')).toMatchObject({ body: JPEG, contentType: 'image/jpeg' })
  })

  it.each([408, 429, 500, 502, 503, 504])('retries HTTP %i and counts ok once the origin recovers', async (status) => {
    const source = scriptedSource({ 'a.jpg': (_request, attempt) => answer(attempt < 3 ? status : 200) })
    const report = await runDownloads(plan(['a']), settings, { source, sink: memorySink() })
    expect(report.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    expect(source.requests).toHaveLength(3)
  })

  it.each([400, 401, 403, 410, 301])('does not retry HTTP %i', async (status) => {
    const source = scriptedSource({ 'a.jpg': () => answer(status) })
    const report = await runDownloads(plan(['a']), settings, { source, sink: memorySink() })
    expect(report.failures).toEqual([expect.objectContaining({ reason: `http_${status}`, attempts: 1 })])
    expect(source.requests).toHaveLength(1)
  })

  it('does not retry an origin whose Retry-After is beyond the wait allowed', async () => {
    const source = scriptedSource({ 'a.jpg': () => answer(429, Buffer.from('slow down'), { retryAfter: '120' }) })
    const report = await runDownloads(plan(['a']), settings, { source, sink: memorySink() })
    expect(report.failures).toEqual([
      expect.objectContaining({
        reason: 'http_429',
        attempts: 1,
        message: 'origin answered HTTP 429, Retry-After 120 s is beyond the wait allowed',
      }),
    ])
    expect(source.requests).toHaveLength(1)
  })

  it('refuses bodies that are too large or not images, without retrying', async () => {
    const source = scriptedSource({
      'big.jpg': () => answer(200, Buffer.concat([JPEG, Buffer.alloc(2000)])),
      'declared.jpg': () => answer(200, JPEG, { contentLength: 5000 }),
      'page.jpg': () => answer(200, Buffer.from('<!doctype html><p>hi</p>')),
    })
    const sink = memorySink()
    const report = await runDownloads(plan(['big', 'declared', 'page']), settings, { source, sink })
    expect(report.failures.map(({ code, reason, attempts }) => ({ code, reason, attempts }))).toEqual([
      { code: 'big', reason: 'too_large', attempts: 1 },
      { code: 'declared', reason: 'too_large', attempts: 1 },
      { code: 'page', reason: 'not_image', attempts: 1 },
    ])
    expect(sink.stored.size).toBe(0)
  })

  it('sends the stored validators and counts a 304 as ok and unchanged, unless forced', async () => {
    const validators = { etag: '"v1"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' }
    const source = scriptedSource({
      'a.jpg': (request) =>
        request.validators?.etag === '"v1"' ? answer(304, Buffer.alloc(0)) : answer(200, JPEG, validators),
    })
    const sink = memorySink()

    const first = await runDownloads(plan(['a']), settings, { source, sink })
    const second = await runDownloads(plan(['a']), settings, { source, sink })
    const forced = await runDownloads(plan(['a'], { force: true }), settings, { source, sink })

    expect(first).toMatchObject({ counter: { ok: 1, not_found: 0, error: 0 }, unchanged: 0, bytes: JPEG.length })
    expect(second).toMatchObject({ counter: { ok: 1, not_found: 0, error: 0 }, unchanged: 1, bytes: 0 })
    expect(forced).toMatchObject({ counter: { ok: 1, not_found: 0, error: 0 }, unchanged: 0, bytes: JPEG.length })
    expect(source.requests.map((request) => request.validators)).toEqual([undefined, validators, undefined])
    expect(sink.stored.get('flags/a.jpg')?.validators).toEqual(validators)
  })

  it('keeps retries inside the concurrency cap', async () => {
    let running = 0
    let maxRunning = 0
    const codes = Array.from({ length: 8 }, (_, i) => `c${i}`)
    const flaky: Script = async (_request, attempt) => {
      running += 1
      maxRunning = Math.max(maxRunning, running)
      await new Promise((resolve) => setImmediate(resolve))
      running -= 1
      return answer(attempt === 1 ? 503 : 200)
    }
    const source = scriptedSource(Object.fromEntries(codes.map((code) => [`${code}.jpg`, flaky])))

    const report = await runDownloads(plan(codes, { concurrency: 2 }), settings, { source, sink: memorySink() })

    expect(report.counter.ok).toBe(codes.length)
    expect(source.requests).toHaveLength(2 * codes.length)
    expect(maxRunning).toBe(2)
  })

  it('reports the time the batch took from the injected clock', async () => {
    let clock = 1000
    const source = scriptedSource({
      'a.jpg': () => {
        clock += 250
        return answer(200)
      },
    })
    const report = await runDownloads(plan(['a']), settings, { source, sink: memorySink() }, { now: () => clock })
    expect(report.elapsedMs).toBe(250)
  })
})

describe('Function: runDownloads near the deadline', () => {
  /** A remaining-time clock that the test moves by hand. */
  function fakeRemaining(ms: number) {
    const clock = { ms, remainingMs: () => clock.ms }
    return clock
  }

  it('starts nothing when only the reserve is left, and counts every code as deadline', async () => {
    const source = scriptedSource({ 'a.jpg': () => answer(200) })
    const clock = fakeRemaining(settings.deadlineReserveMs)

    const report = await runDownloads(plan(['a', 'b']), settings, { source, sink: memorySink() }, { remainingMs: clock.remainingMs })

    expect(report.counter).toEqual({ ok: 0, not_found: 0, error: 2 })
    expect(report.failures).toEqual([
      { code: 'a', status: 'error', reason: 'deadline', attempts: 0, message: 'deadline' },
      { code: 'b', status: 'error', reason: 'deadline', attempts: 0, message: 'deadline' },
    ])
    expect(source.requests).toEqual([])
  })

  it('stops starting downloads once the time left runs short, and finishes those already done', async () => {
    const clock = fakeRemaining(60_000)
    const source = scriptedSource({
      'a.jpg': () => answer(200),
      // Fetching b uses up the time: after it, only the reserve is left.
      'b.jpg': () => {
        clock.ms = settings.deadlineReserveMs
        return answer(200)
      },
      'c.jpg': () => answer(200),
    })

    const report = await runDownloads(
      plan(['a', 'b', 'c'], { concurrency: 1 }),
      settings,
      { source, sink: memorySink() },
      { remainingMs: clock.remainingMs },
    )

    expect(report.counter).toEqual({ ok: 2, not_found: 0, error: 1 })
    expect(report.failures).toEqual([{ code: 'c', status: 'error', reason: 'deadline', attempts: 0, message: 'deadline' }])
    expect(source.requests.map((request) => request.url)).not.toContain('https://origin.test/a1/c.jpg')
  })

  /**
   * A sink whose uploads are stored, and then, before their answer arrives, see the deadline fire:
   * each put stores its object, waits for the run's signal to abort, and rejects with its abort.
   */
  function answerLostSink(): ObjectSink & { stored: Map<string, Stored> } {
    const sink = memorySink()
    return {
      ...sink,
      async put(object, signal) {
        await sink.put(object, signal)
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
        signal.throwIfAborted()
      },
    }
  }

  // The deadline fires 20 ms in: the reserve is all that is left then.
  const remainingMs = () => settings.deadlineReserveMs + 20

  it('counts ok a code whose upload was stored just as the deadline fired and cut off its answer', async () => {
    const source = scriptedSource({ 'a.jpg': () => answer(200, JPEG, { etag: '"v1"' }), 'b.jpg': () => answer(200, JPEG, { lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' }) })
    const sink = answerLostSink()

    const report = await runDownloads(plan(['a', 'b']), settings, { source, sink }, { remainingMs })

    expect(sink.stored.has('flags/a.jpg') && sink.stored.has('flags/b.jpg')).toBe(true)
    expect(report.counter).toEqual({ ok: 2, not_found: 0, error: 0 })
    expect(report.failures).toEqual([])
  })

  it('counts ok a streamed code whose multipart upload was completed just as the deadline fired', async () => {
    const large = Buffer.concat([JPEG, Buffer.alloc(4000, 7)])
    const streaming = { ...settings, maxImageBytes: 64 * 1024, maxBufferedBytes: 1024, maxStreamedBytes: 3 * 1024 }
    const source = scriptedSource({ 'a.jpg': () => answer(200, large, { etag: '"big"', contentLength: large.length }) })
    const sink = answerLostSink()

    const report = await runDownloads(plan(['a']), streaming, { source, sink }, { remainingMs })

    expect(sink.stored.get('flags/a.jpg')?.body.equals(large)).toBe(true)
    expect(report.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    expect(report.bytes).toBe(large.length)
  })

  it('still counts deadline an upload the deadline cut off that was not stored, or cannot be told from an earlier copy', async () => {
    const source = scriptedSource({ 'a.jpg': () => answer(200, JPEG, { etag: '"v2"' }), 'b.jpg': () => answer(200) })
    const sink = answerLostSink()
    // a's key still holds an earlier version; b's image comes without validators, so its stored copy proves nothing.
    const lost: ObjectSink = {
      ...sink,
      validatorsOf: async (key) => (key === 'flags/a.jpg' ? { etag: '"v1"' } : sink.validatorsOf(key, new AbortController().signal)),
    }

    const report = await runDownloads(plan(['a', 'b'], { force: true }), settings, { source, sink: lost }, { remainingMs })

    expect(report.failures.map(({ code, reason }) => ({ code, reason }))).toEqual([
      { code: 'a', reason: 'deadline' },
      { code: 'b', reason: 'deadline' },
    ])
  })

  it('aborts a running download when the caller aborts, and stores nothing of it', async () => {
    const caller = new AbortController()
    const source = scriptedSource({
      'a.jpg': (request) =>
        new Promise((_resolve, reject) => {
          request.signal.addEventListener('abort', () => reject(new Error('aborted')))
          caller.abort()
        }),
    })
    const sink = memorySink()

    const report = await runDownloads(plan(['a', 'b']), settings, { source, sink }, { signal: caller.signal })

    expect(report.failures.map(({ code, reason }) => ({ code, reason }))).toEqual([
      { code: 'a', reason: 'deadline' },
      { code: 'b', reason: 'deadline' },
    ])
    expect(sink.stored.size).toBe(0)
  })
})
