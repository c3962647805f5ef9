import { Readable } from 'node:stream'
import { setImmediate } from 'node:timers/promises'
import type { Admission } from './budget.ts'
import type { OriginValidators } from './ports.ts'

// A body within one part is read whole, and its origin slot freed before it is uploaded; a larger
// one streams into the sink from its first byte while it keeps its slot.

/** A body read whole within its origin slot, with the bytes it holds, to be uploaded outside it. */
export interface ReadBody {
  readonly kind: 'read'
  readonly body: Buffer
  readonly contentType: string
  readonly validators: OriginValidators
  readonly admission: Admission
}

/**
 * Reads chunks into `head` until the body ends or passes `partBytes`, and returns the bytes read:
 * at most `partBytes` means the body ended within one part.
 */
export async function readHead(chunks: AsyncIterator<Buffer>, head: Buffer[], partBytes: number): Promise<number> {
  let headBytes = 0
  while (headBytes <= partBytes) {
    const next = await chunks.next()
    if (next.done === true) break
    head.push(next.value)
    headBytes += next.value.length
  }
  return headBytes
}

/** A body that ended within one part, joined, its admission settled to its size, to be handed on to its upload. */
export async function wholeBody(
  head: readonly Buffer[],
  headBytes: number,
  contentType: string,
  validators: OriginValidators,
  admission: Admission,
  signal: AbortSignal,
): Promise<ReadBody> {
  // undici hands the connection back to its pool a tick after the body ends (the client's
  // 'drain'); a request sent in this slot before that would open a connection of its own.
  await setImmediate()
  const body = Buffer.concat(head, headBytes)
  await admission.settle(body.length, signal)
  return { kind: 'read', body, contentType, validators, admission }
}

/** The whole of a body larger than a part, as one stream: the head already read, then the rest of `chunks`. */
export function streamedBody(head: Buffer[], chunks: AsyncIterator<Buffer>): Readable {
  async function* wholeStream(): AsyncGenerator<Buffer> {
    // Let go of each chunk read so far as it is passed on, rather than holding the part to the end.
    for (let chunk = head.shift(); chunk !== undefined; chunk = head.shift()) yield chunk
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) yield next.value
  }
  return Readable.from(wholeStream(), { objectMode: false })
}
