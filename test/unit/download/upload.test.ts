import { Readable } from 'node:stream'
import pLimit from 'p-limit'
import { describe, expect, it } from 'vitest'
import { DownloadError } from '../../../lib/download/errors.ts'
import type { GuardedImage } from '../../../lib/download/imageGuard.ts'
import type { ObjectSink, ObjectToStore } from '../../../lib/download/ports.ts'
import type { ReadBody } from '../../../lib/download/readOrStream.ts'
import { storeReadBody, storeStreamed } from '../../../lib/download/upload.ts'

/** A sink that records what it was given, and fails every put with `failure` when one is set. */
function recordingSink(failure?: Error): ObjectSink & { puts: ObjectToStore[] } {
  const puts: ObjectToStore[] = []
  return {
    puts,
    validatorsOf: async () => undefined,
    async put(object) {
      puts.push(object)
      if (failure !== undefined) throw failure
    },
  }
}

function readBody(): ReadBody & { released: () => number } {
  let released = 0
  return {
    kind: 'read',
    body: Buffer.from('jpeg'),
    contentType: 'image/jpeg',
    validators: { etag: '"v1"' },
    admission: { settle: async () => undefined, release: () => void (released += 1) },
    released: () => released,
  }
}

describe('Function: storeReadBody', () => {
  it('stores the body with its type and validators, and gives its memory back', async () => {
    const sink = recordingSink()
    const read = readBody()
    expect(await storeReadBody(pLimit(1), sink, 'flags/a.jpg', read, new AbortController().signal, 100)).toBeUndefined()
    expect(sink.puts).toEqual([{ key: 'flags/a.jpg', body: read.body, contentType: 'image/jpeg', validators: { etag: '"v1"' } }])
    expect(read.released()).toBe(1)
  })

  it("resolves with the store's failure, and gives the memory back all the same", async () => {
    const read = readBody()
    const failure = await storeReadBody(pLimit(1), recordingSink(new Error('Access Denied')), 'flags/a.jpg', read, new AbortController().signal, 100)
    expect(failure).toMatchObject({ reason: 's3', message: 'store: Access Denied' })
    expect(read.released()).toBe(1)
  })

  it('uploads nothing once the deadline has passed, and counts the code as deadline', async () => {
    const sink = recordingSink()
    const read = readBody()
    const failure = await storeReadBody(pLimit(1), sink, 'flags/a.jpg', read, AbortSignal.abort(), 100)
    expect(failure).toMatchObject({ reason: 'deadline' })
    expect(sink.puts).toEqual([])
    expect(read.released()).toBe(1)
  })

  it('counts stored an upload the deadline cut off once S3 had it, and asks nothing of one never sent', async () => {
    const deadline = new AbortController()
    const lookedUp: string[] = []
    const sink: ObjectSink = {
      validatorsOf: async (key) => (lookedUp.push(key), { etag: '"v1"' }),
      async put() {
        deadline.abort()
        throw new Error('aborted: the answer never came')
      },
    }
    expect(await storeReadBody(pLimit(1), sink, 'flags/a.jpg', readBody(), deadline.signal, 100)).toBeUndefined()
    expect(await storeReadBody(pLimit(1), sink, 'flags/b.jpg', readBody(), deadline.signal, 100)).toMatchObject({ reason: 'deadline' })
    expect(lookedUp).toEqual(['flags/a.jpg'])
  })

  it('keeps uploads within the slots it is given', async () => {
    let running = 0
    let most = 0
    const sink: ObjectSink = {
      validatorsOf: async () => undefined,
      async put() {
        running += 1
        most = Math.max(most, running)
        await new Promise((resolve) => setImmediate(resolve))
        running -= 1
      },
    }
    const slots = pLimit(2)
    const signal = new AbortController().signal
    await Promise.all(Array.from({ length: 6 }, (_, i) => storeReadBody(slots, sink, `k${i}`, readBody(), signal, 100)))
    expect(most).toBe(2)
  })
})

/** An image whose body broke with `broken`, if given. */
function guardedImage(broken?: DownloadError): GuardedImage {
  return { contentType: 'image/jpeg', body: Readable.from([Buffer.from('x')]), bytesRead: () => 1, failure: () => broken }
}

describe('Function: storeStreamed', () => {
  it('streams the object into the sink as it is', async () => {
    const sink = recordingSink()
    const object = { key: 'flags/big.jpg', body: Readable.from([Buffer.from('x')]), contentType: 'image/jpeg', validators: {} }
    await storeStreamed(sink, object, guardedImage(), new AbortController().signal)
    expect(sink.puts).toEqual([object])
  })

  it('blames the store when the upload failed on a whole body, and destroys both streams', async () => {
    const image = guardedImage()
    const object = { key: 'flags/big.jpg', body: Readable.from([Buffer.from('x')]), contentType: 'image/jpeg', validators: {} }
    await expect(storeStreamed(recordingSink(new Error('SlowDown')), object, image, new AbortController().signal)).rejects.toMatchObject({
      reason: 's3',
      message: 'store: SlowDown',
    })
    expect(object.body.destroyed).toBe(true)
    expect(image.body.destroyed).toBe(true)
  })

  it('blames the origin when its body broke mid-stream and failed the upload with it', async () => {
    const broken = new DownloadError('too_large', 'image is larger than 1024 bytes')
    const object = { key: 'flags/big.jpg', body: Readable.from([Buffer.from('x')]), contentType: 'image/jpeg', validators: {} }
    await expect(storeStreamed(recordingSink(new Error('body failed')), object, guardedImage(broken), new AbortController().signal)).rejects.toBe(broken)
  })
})
