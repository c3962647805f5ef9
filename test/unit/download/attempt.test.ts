import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import type { RequestAdmissions } from '../../../lib/download/admission.ts'
import { UNCHANGED } from '../../../lib/download/answerGuard.ts'
import { attemptOnce, type AttemptRun } from '../../../lib/download/attempt.ts'
import type { ImageRequest, ImageSource, ObjectSink, OriginHeaders } from '../../../lib/download/ports.ts'
import type { EngineSettings } from '../../../lib/download/settings.ts'
import { testSettings } from './testSettings.ts'

const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0])
const URL = 'https://origin.test/a1/a.jpg'

// Parts of 100 bytes, streams of 300: bodies on both sides of a part stay small.
const settings: EngineSettings = { ...testSettings, maxImageBytes: 1000, maxBufferedBytes: 100, maxStreamedBytes: 300 }

/** Admissions that record what each attempt was admitted, settled and released with. */
function recordingAdmissions() {
  const log: string[] = []
  const admissions: RequestAdmissions = {
    async admit() {
      log.push('admit')
      return { settle: async (bytes) => void log.push(`settle ${bytes}`), release: () => void log.push('release') }
    },
    noteNeed: (bytes) => void log.push(`need ${bytes}`),
  }
  return { admissions, log }
}

/** A source that answers every request with this status, headers and body, keeping the requests. */
function answeringSource(status: number, body: Buffer, headers: OriginHeaders = {}) {
  const requests: ImageRequest[] = []
  const origin = Readable.from([body.subarray(0, 60), body.subarray(60)].filter((chunk) => chunk.length > 0))
  const source: ImageSource = {
    async get(request) {
      requests.push(request)
      return { status, headers, body: origin, discard: async () => void origin.destroy() }
    },
  }
  return { source, requests, origin }
}

/** A sink that reads whatever is streamed into it. */
function streamSink() {
  const stored: Buffer[] = []
  const sink: ObjectSink = {
    validatorsOf: async () => undefined,
    async put({ body }) {
      stored.push(Buffer.isBuffer(body) ? body : await buffer(body))
    },
  }
  return { sink, stored }
}

function runWith(source: ImageSource, sink: ObjectSink, admissions: RequestAdmissions, overrides: Partial<EngineSettings> = {}): AttemptRun {
  return { settings: { ...settings, ...overrides }, ports: { source, sink }, deadline: { signal: new AbortController().signal }, admissions }
}

const image = (bytes: number) => Buffer.concat([JPEG_HEAD, Buffer.alloc(bytes - JPEG_HEAD.length, 7)])

describe('Function: attemptOnce', () => {
  it('reads a body within one part whole and hands it on with its admission, settled to its size', async () => {
    const { admissions, log } = recordingAdmissions()
    const body = image(80)
    const { source } = answeringSource(200, body, { contentLength: 80, etag: '"v2"' })

    const fetched = await attemptOnce(URL, 'flags/a.jpg', undefined, runWith(source, streamSink().sink, admissions))

    expect(fetched).toMatchObject({ kind: 'read', body, contentType: 'image/jpeg', validators: { etag: '"v2"' } })
    expect(log).toEqual(['admit', 'settle 80', 'settle 80', 'need 80'])
  })

  it('streams a body past one part into the sink in the attempt, and gives its memory back', async () => {
    const { admissions, log } = recordingAdmissions()
    const body = image(250)
    const { sink, stored } = streamSink()
    const { source } = answeringSource(200, body)

    const fetched = await attemptOnce(URL, 'flags/a.jpg', undefined, runWith(source, sink, admissions))

    expect(fetched).toEqual({ kind: 'streamed', bytes: 250 })
    expect(stored).toEqual([body])
    expect(log).toEqual(['admit', 'settle 100', 'settle 300', 'need 300', 'release'])
  })

  it('asks conditionally for a stored copy, and counts a 304 as unchanged', async () => {
    const { admissions, log } = recordingAdmissions()
    const { source, requests } = answeringSource(304, Buffer.alloc(0))
    const validators = { etag: '"v1"' }

    expect(await attemptOnce(URL, 'flags/a.jpg', validators, runWith(source, streamSink().sink, admissions))).toBe(UNCHANGED)
    expect(requests.map((request) => request.validators)).toEqual([validators])
    expect(log).toEqual(['admit', 'release'])
  })

  it.each([
    ['an HTTP failure', 503, {}, 'http_503'],
    ['a declared size over the limit', 200, { contentLength: 5000 }, 'too_large'],
  ])('rejects with %s, its request closed and its memory given back', async (_case, status, headers, reason) => {
    const { admissions, log } = recordingAdmissions()
    const { source, origin } = answeringSource(status, image(80), headers)

    await expect(attemptOnce(URL, 'flags/a.jpg', undefined, runWith(source, streamSink().sink, admissions))).rejects.toMatchObject({ reason })
    expect(origin.destroyed).toBe(true)
    expect(log).toEqual(['admit', 'release'])
  })

  it('fails as timeout when the origin takes longer than the attempt may', async () => {
    const { admissions, log } = recordingAdmissions()
    const source: ImageSource = {
      get: (request) => new Promise((_resolve, reject) => request.signal.addEventListener('abort', () => reject(new Error('aborted')))),
    }

    const attempt = attemptOnce(URL, 'flags/a.jpg', undefined, runWith(source, streamSink().sink, admissions, { attemptTimeoutMs: 20 }))

    await expect(attempt).rejects.toMatchObject({ reason: 'timeout', retryable: true, message: 'origin: attempt took longer than 20 ms' })
    expect(log).toEqual(['admit', 'release'])
  })
})
