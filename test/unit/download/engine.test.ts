import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { imageUrl, objectKey, runDownloads, statusForHttp } from '../../../lib/download/engine.ts'
import type { ImageSource, ObjectSink, ObjectToStore, OriginResponse } from '../../../lib/download/ports.ts'
import type { DownloadPlan } from '../../../lib/download/request.ts'

function plan(codes: string[], concurrency = 3): DownloadPlan {
  return { codes, baseUrl: 'https://origin.test/a1', concurrency, prefix: 'flags/' }
}

function response(status: number, body = `body of ${status}`): OriginResponse {
  return {
    status,
    contentType: status === 200 ? 'image/jpeg' : 'text/plain',
    body: Readable.from([Buffer.from(body)]),
    discard: async () => undefined,
  }
}

/** A source answering from a table of URL → status; a missing URL is a network failure. */
function tableSource(statuses: Record<string, number>): ImageSource & { urls: string[] } {
  const urls: string[] = []
  return {
    urls,
    async get(url) {
      urls.push(url)
      const status = statuses[url]
      if (status === undefined) throw new Error('connect ECONNREFUSED')
      return response(status, url)
    },
  }
}

/** A sink keeping objects in memory; keys listed in `failing` are refused. */
function memorySink(failing: string[] = []): ObjectSink & { stored: Map<string, { body: string; contentType: string }> } {
  const stored = new Map<string, { body: string; contentType: string }>()
  return {
    stored,
    async put(object: ObjectToStore) {
      const body = await text(object.body)
      if (failing.includes(object.key)) throw new Error('Access Denied')
      stored.set(object.key, { body, contentType: object.contentType })
    },
  }
}

describe('Function: statusForHttp', () => {
  it.each([
    [200, 'ok'],
    [404, 'not_found'],
    [500, 'error'],
    [503, 'error'],
    [403, 'error'],
    [301, 'error'],
    [204, 'error'],
  ] as const)('counts HTTP %i as %s', (httpStatus, status) => {
    expect(statusForHttp(httpStatus)).toBe(status)
  })
})

describe('Function: objectKey and imageUrl', () => {
  it('lower-cases the code in both the key and the URL', () => {
    expect(objectKey('flags/', 'PMS_1.A')).toBe('flags/pms_1.a.jpg')
    expect(imageUrl('https://origin.test/a1', 'PMS_1.A')).toBe('https://origin.test/a1/pms_1.a.jpg')
  })
})

describe('Function: runDownloads', () => {
  it('counts every code exactly once, under ok, not_found or error', async () => {
    const source = tableSource({
      'https://origin.test/a1/a.jpg': 200,
      'https://origin.test/a1/b.jpg': 404,
      'https://origin.test/a1/c.jpg': 500,
      'https://origin.test/a1/e.jpg': 200,
    })
    const sink = memorySink(['flags/e.jpg'])

    const report = await runDownloads(plan(['A', 'b', 'c', 'd', 'e']), { source, sink })

    expect(report.counter).toEqual({ ok: 1, not_found: 1, error: 3 })
    expect(report.total).toBe(5)
    expect(report.counter.ok + report.counter.not_found + report.counter.error).toBe(report.total)
    expect(report.prefix).toBe('flags/')
    expect(report.failures).toEqual([
      { code: 'b', status: 'not_found', httpStatus: 404, message: 'not found' },
      { code: 'c', status: 'error', httpStatus: 500, message: 'origin answered HTTP 500' },
      { code: 'd', status: 'error', message: 'origin: connect ECONNREFUSED' },
      { code: 'e', status: 'error', httpStatus: 200, message: 'store: Access Denied' },
    ])
    expect([...sink.stored.keys()]).toEqual(['flags/a.jpg'])
    expect(sink.stored.get('flags/a.jpg')).toEqual({ body: 'https://origin.test/a1/a.jpg', contentType: 'image/jpeg' })
  })

  it('counts the same code twice when it is asked for twice', async () => {
    const source = tableSource({ 'https://origin.test/a1/a.jpg': 200 })
    const report = await runDownloads(plan(['a', 'A']), { source, sink: memorySink() })
    expect(report.counter).toEqual({ ok: 2, not_found: 0, error: 0 })
    expect(source.urls).toHaveLength(2)
  })

  it('never runs more downloads at once than the cap, and runs as many as it allows', async () => {
    const codes = Array.from({ length: 10 }, (_, i) => `c${i}`)
    const cap = 4
    let started = 0
    let running = 0
    let maxRunning = 0
    let waiting: (() => void)[] = []
    const source: ImageSource = {
      async get() {
        started += 1
        running += 1
        maxRunning = Math.max(maxRunning, running)
        // Hold every download until the cap is full (or no code is left to start), then let them all finish.
        const held = new Promise<void>((release) => waiting.push(release))
        if (running === cap || started === codes.length) {
          waiting.forEach((release) => release())
          waiting = []
        }
        await held
        running -= 1
        return response(200)
      },
    }

    const report = await runDownloads(plan(codes, cap), { source, sink: memorySink() })

    expect(maxRunning).toBe(cap)
    expect(report.counter.ok).toBe(codes.length)
  })

  it('reports the time the batch took from the injected clock', async () => {
    let tick = 0
    const now = () => (tick += 250)
    const report = await runDownloads(plan(['a']), { source: tableSource({}), sink: memorySink(), now })
    expect(report.elapsedMs).toBe(250)
  })
})
