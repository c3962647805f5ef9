import { Readable } from 'node:stream'
import { DownloadError } from './errors.ts'
import { originFailure } from './failures.ts'

/** The longest signature below (RIFF....WEBP, ftyp + brand) needs the first 12 bytes. */
const SNIFF_BYTES = 12

const ascii = (text: string) => Buffer.from(text, 'latin1')

// Signatures after the WHATWG MIME Sniffing Standard's image patterns, plus AVIF's ISO-BMFF brand.
const SIGNATURES: readonly { type: string; matches: (head: Buffer) => boolean }[] = [
  { type: 'image/jpeg', matches: (head) => head.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])) },
  {
    type: 'image/png',
    matches: (head) => head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  },
  {
    type: 'image/gif',
    matches: (head) => head.subarray(0, 6).equals(ascii('GIF87a')) || head.subarray(0, 6).equals(ascii('GIF89a')),
  },
  {
    type: 'image/webp',
    matches: (head) => head.subarray(0, 4).equals(ascii('RIFF')) && head.subarray(8, 12).equals(ascii('WEBP')),
  },
  {
    type: 'image/avif',
    matches: (head) =>
      head.subarray(4, 8).equals(ascii('ftyp')) &&
      (head.subarray(8, 12).equals(ascii('avif')) || head.subarray(8, 12).equals(ascii('avis'))),
  },
]

/** The image type the first bytes of a body announce, or undefined when they are not JPEG, PNG, GIF, WebP or AVIF. */
export function sniffImageType(head: Uint8Array): string | undefined {
  const bytes = Buffer.from(head.buffer, head.byteOffset, head.byteLength)
  return SIGNATURES.find((signature) => signature.matches(bytes))?.type
}

export interface ImageLimits {
  /** Bodies longer than this fail as `too_large` as soon as they pass it. */
  readonly maxBytes: number
  /** What the origin promised in Content-Length; a body of another length fails as `truncated`. */
  readonly expectedBytes?: number | undefined
  /**
   * The slowest average, in bytes per second since the answer's headers, a body may arrive at once
   * it has had RATE_GRACE_MS; slower fails as `timeout`, checked as each chunk arrives. 0: any.
   */
  readonly minBytesPerSecond?: number
}

// Time for a connection to get up to speed before its rate counts.
const RATE_GRACE_MS = 1000

/** An origin body checked to be an image, streamed on with its limits enforced as it flows. */
export interface GuardedImage {
  readonly contentType: string
  /** The body, from its first byte; it errors with a DownloadError when a limit is broken. */
  readonly body: Readable
  /** Bytes that have flowed through so far. */
  bytesRead(): number
  /** The error the body failed with, if it failed: tells a bad body from a failing store. */
  failure(): DownloadError | undefined
}

/**
 * Reads just enough of an origin body to know it is an image, then hands on a stream of the
 * whole body that fails, before its end, if it is longer than allowed or not as long as promised.
 * Nothing is buffered beyond the first chunk or two.
 */
export async function guardImageBody(source: Readable, limits: ImageLimits): Promise<GuardedImage> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  let bytes = 0
  const startedAt = performance.now()
  const minRate = limits.minBytesPerSecond ?? 0
  let failure: DownloadError | undefined
  const release = async () => {
    await chunks.return?.()
  }
  const countOrFail = (chunk: Buffer) => {
    bytes += chunk.length
    if (bytes > limits.maxBytes) {
      throw new DownloadError('too_large', `image is larger than ${limits.maxBytes} bytes`)
    }
    const elapsedMs = performance.now() - startedAt
    if (minRate > 0 && elapsedMs > RATE_GRACE_MS && bytes < (minRate * elapsedMs) / 1000) {
      const rate = Math.round((bytes * 1000) / elapsedMs)
      throw new DownloadError('timeout', `body arrives at ${rate} bytes/s, slower than ${minRate}`, { retryable: true })
    }
  }

  let head: Buffer = Buffer.alloc(0)
  let ended = false
  try {
    while (head.length < SNIFF_BYTES) {
      const next = await chunks.next()
      if (next.done === true) {
        ended = true
        break
      }
      countOrFail(next.value)
      // The first chunk is almost always enough to sniff: kept as it is, not copied.
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value])
    }
  } catch (error) {
    await release()
    throw originFailure(error)
  }

  const contentType = sniffImageType(head)
  if (contentType === undefined) {
    await release()
    throw new DownloadError('not_image', 'body is not a JPEG, PNG, GIF, WebP or AVIF image')
  }

  /** Runs a step of reading the origin; what it throws is the origin's fault, and the body's failure. */
  const fromOrigin = async <T>(step: () => Promise<T> | T): Promise<T> => {
    try {
      return await step()
    } catch (error) {
      failure = originFailure(error)
      throw failure
    }
  }

  // Only what reading the origin throws counts against it. An error thrown in at a `yield` comes
  // from the reader (an upload that failed and destroyed the body) and passes through unblamed.
  async function* wholeBody(): AsyncGenerator<Buffer> {
    try {
      yield head
      while (!ended) {
        const next = await fromOrigin(async () => {
          const read = await chunks.next()
          if (read.done !== true) countOrFail(read.value)
          return read
        })
        if (next.done === true) break
        yield next.value
      }
      await fromOrigin(() => {
        if (limits.expectedBytes !== undefined && bytes !== limits.expectedBytes) {
          throw new DownloadError('truncated', `body has ${bytes} bytes, Content-Length promised ${limits.expectedBytes}`, {
            retryable: true,
          })
        }
      })
    } finally {
      await release()
    }
  }

  const body = Readable.from(wholeBody(), { objectMode: false })
  // A consumer that gives up before reading still frees the origin's connection.
  body.once('close', () => void release())
  return {
    contentType,
    body,
    bytesRead: () => bytes,
    failure: () => failure,
  }
}
