import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { endUnreadAnswer, refuseDeclaredOversize, UNCHANGED } from '../../../lib/download/answerGuard.ts'
import { DownloadError } from '../../../lib/download/errors.ts'
import type { OriginHeaders, OriginResponse } from '../../../lib/download/ports.ts'

/** An answer that counts how often its body was discarded; `discardFails` makes the discard reject. */
function answerOf(status: number, headers: OriginHeaders = {}, discardFails = false): OriginResponse & { discarded: number } {
  const answer = {
    status,
    headers,
    body: Readable.from([Buffer.from('body')]),
    discarded: 0,
    async discard() {
      answer.discarded += 1
      if (discardFails) throw new Error('socket closed')
    },
  }
  return answer
}

describe('Function: endUnreadAnswer', () => {
  it('counts a 304 to a conditional request as unchanged, its body discarded', async () => {
    const answer = answerOf(304)
    await expect(endUnreadAnswer(answer, true)).resolves.toBe(UNCHANGED)
    expect(answer.discarded).toBe(1)
  })

  it('counts a 304 to a request that was not conditional as the HTTP failure it is', async () => {
    await expect(endUnreadAnswer(answerOf(304), false)).rejects.toMatchObject({ reason: 'http_304', httpStatus: 304, retryable: false })
  })

  it('rejects a 404 as not_found, which is final', async () => {
    const answer = answerOf(404)
    await expect(endUnreadAnswer(answer, true)).rejects.toMatchObject({ reason: 'not_found', message: 'not found', retryable: false })
    expect(answer.discarded).toBe(1)
  })

  it("rejects a 503 as retryable, with the origin's Retry-After in ms", async () => {
    const failure = await endUnreadAnswer(answerOf(503, { retryAfter: '7' }), false).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(DownloadError)
    expect(failure).toMatchObject({ reason: 'http_503', retryable: true, retryAfterMs: 7000 })
  })

  it('rejects with the status, not the error of a discard that failed', async () => {
    await expect(endUnreadAnswer(answerOf(500, {}, true), false)).rejects.toMatchObject({ reason: 'http_500' })
  })
})

describe('Function: refuseDeclaredOversize', () => {
  it('refuses a body whose Content-Length is over the limit as too_large, and closes its request', () => {
    const answer = answerOf(200, { contentLength: 1025 })
    expect(() => refuseDeclaredOversize(answer, 1024)).toThrow(
      expect.objectContaining({ reason: 'too_large', message: 'Content-Length 1025 is over 1024 bytes', retryable: false }),
    )
    expect(answer.body.destroyed).toBe(true)
  })

  it.each([
    ['of the limit exactly', 1024],
    ['of unknown length', undefined],
  ])('lets a body %s through, untouched', (_case, contentLength) => {
    const answer = answerOf(200, contentLength === undefined ? {} : { contentLength })
    expect(() => refuseDeclaredOversize(answer, 1024)).not.toThrow()
    expect(answer.body.destroyed).toBe(false)
  })
})
