import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { DownloadError } from '../../../lib/download/errors.ts'
import { guardImageBody, sniffImageType } from '../../../lib/download/imageGuard.ts'

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))))

const SAMPLES = {
  'image/jpeg': bytes([0xff, 0xd8, 0xff, 0xdb], 'rest of a jpeg'),
  'image/png': bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'IHDR...'),
  'image/gif': bytes('GIF89a', [1, 0, 1, 0]),
  'image/webp': bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 '),
  'image/avif': bytes([0, 0, 0, 0x1c], 'ftypavif', [0, 0, 0, 0], 'mif1'),
} as const

describe('Function: sniffImageType', () => {
  it.each(Object.entries(SAMPLES))('recognises %s', (type, sample) => {
    expect(sniffImageType(sample)).toBe(type)
  })

  it.each([
    ['HTML', bytes('<!doctype html><html>')],
    ['JSON', bytes('{"error":"no"}')],
    ['a GIF of an unknown version', bytes('GIF90a', [1, 0])],
    ['a RIFF that is not WebP', bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt ')],
    ['an MP4 video', bytes([0, 0, 0, 0x18], 'ftypmp42')],
    ['nothing', bytes()],
    ['two bytes of a JPEG', bytes([0xff, 0xd8])],
  ])('refuses %s', (_name, sample) => {
    expect(sniffImageType(sample)).toBeUndefined()
  })
})

/** A body arriving in chunks of the given sizes, like a socket delivers it. */
function chunked(data: Buffer, ...sizes: number[]): Readable {
  const chunks: Buffer[] = []
  let offset = 0
  for (const size of sizes) {
    chunks.push(data.subarray(offset, offset + size))
    offset += size
  }
  if (offset < data.length) chunks.push(data.subarray(offset))
  return Readable.from(chunks)
}

describe('Function: guardImageBody', () => {
  const jpeg = Buffer.concat([SAMPLES['image/jpeg'], Buffer.alloc(1000, 7)])

  it('passes an image on whole, even when its signature arrives split over chunks', async () => {
    const guarded = await guardImageBody(chunked(jpeg, 1, 2, 5, 100), { maxBytes: 2000, expectedBytes: jpeg.length })
    expect(guarded.contentType).toBe('image/jpeg')
    expect(await buffer(guarded.body)).toEqual(jpeg)
    expect(guarded.bytesRead()).toBe(jpeg.length)
    expect(guarded.failure()).toBeUndefined()
  })

  it('refuses a body that is not an image before reading the rest', async () => {
    const source = chunked(bytes('<html><body>', 'x'.repeat(100)), 12)
    await expect(guardImageBody(source, { maxBytes: 2000 })).rejects.toMatchObject({ reason: 'not_image' })
    expect(source.destroyed).toBe(true)
  })

  it('fails the stream as too_large as soon as it passes the limit, without Content-Length', async () => {
    const guarded = await guardImageBody(chunked(jpeg, 100, 100, 100), { maxBytes: 250 })
    const error = await buffer(guarded.body).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DownloadError)
    expect(error).toMatchObject({ reason: 'too_large' })
    expect(guarded.failure()).toBe(error)
    expect(guarded.bytesRead()).toBe(300)
  })

  it('fails the stream as truncated when the body ends short of its Content-Length', async () => {
    const guarded = await guardImageBody(chunked(jpeg, 100), { maxBytes: 5000, expectedBytes: jpeg.length + 1 })
    await expect(buffer(guarded.body)).rejects.toMatchObject({ reason: 'truncated', retryable: true })
  })

  it('frees the origin body when the consumer gives up before reading', async () => {
    const source = chunked(jpeg, 20, 20)
    const guarded = await guardImageBody(source, { maxBytes: 5000 })
    guarded.body.destroy()
    await new Promise((resolve) => guarded.body.once('close', resolve))
    await expect.poll(() => source.destroyed).toBe(true)
  })
})
