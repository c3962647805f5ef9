import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import type { Admission } from '../../../lib/download/budget.ts'
import { readHead, streamedBody, wholeBody } from '../../../lib/download/readOrStream.ts'

/** Chunks as an origin body hands them out, counting how many were taken. */
function chunksOf(sizes: number[]): AsyncIterator<Buffer> & { taken: () => number } {
  let taken = 0
  const iterator = Readable.from(sizes.map((size, i) => Buffer.alloc(size, i)))[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  return {
    next: async () => {
      const next = await iterator.next()
      if (next.done !== true) taken += 1
      return next
    },
    taken: () => taken,
  }
}

describe('Function: readHead', () => {
  it('reads a body that ends within one part whole, and says so by returning at most a part', async () => {
    const head: Buffer[] = []
    expect(await readHead(chunksOf([40, 60]), head, 100)).toBe(100)
    expect(head.map((chunk) => chunk.length)).toEqual([40, 60])
  })

  it('stops at the first chunk that takes it past one part, leaving the rest unread', async () => {
    const chunks = chunksOf([60, 60, 60, 60])
    const head: Buffer[] = []
    expect(await readHead(chunks, head, 100)).toBe(120)
    expect(chunks.taken()).toBe(2)
  })

  it('passes on what the body fails with', async () => {
    const failing: AsyncIterator<Buffer> = { next: () => Promise.reject(new Error('reset')) }
    await expect(readHead(failing, [], 100)).rejects.toThrow('reset')
  })
})

describe('Function: wholeBody', () => {
  it('joins the head into one buffer and settles the admission to its size', async () => {
    const settled: number[] = []
    const admission: Admission = { settle: async (bytes) => void settled.push(bytes), release: () => undefined }
    const validators = { etag: '"v1"' }

    const read = await wholeBody([Buffer.from('ab'), Buffer.from('cd')], 4, 'image/png', validators, admission, new AbortController().signal)

    expect(read).toEqual({ kind: 'read', body: Buffer.from('abcd'), contentType: 'image/png', validators, admission })
    expect(settled).toEqual([4])
  })
})

describe('Function: streamedBody', () => {
  it('streams the head already read and then the rest, in order, letting go of the head as it goes', async () => {
    const chunks = chunksOf([3, 3, 3, 3])
    const head: Buffer[] = []
    await readHead(chunks, head, 5)

    const whole = await buffer(streamedBody(head, chunks))

    expect(whole).toEqual(Buffer.concat([0, 1, 2, 3].map((i) => Buffer.alloc(3, i))))
    expect(head).toEqual([])
  })
})
