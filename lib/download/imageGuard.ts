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
  const counted = new CountedBody(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>, limits)
  const head = await counted.readHead()
  const contentType = sniffImageType(head)
  if (contentType === undefined) {
    await counted.release()
    throw new DownloadError('not_image', 'body is not a JPEG, PNG, GIF, WebP or AVIF image')
  }
  return counted.guarded(head, contentType)
}

/** An origin body read chunk by chunk, its bytes counted against the limits as they arrive. */
class CountedBody {
  private readonly chunks: AsyncIterator<Buffer>
  private readonly limits: ImageLimits
  private readonly minRate: number
  private readonly startedAt = performance.now()
  private bytes = 0
  private ended = false
  private failure: DownloadError | undefined

  constructor(chunks: AsyncIterator<Buffer>, limits: ImageLimits) {
    this.chunks = chunks
    this.limits = limits
    this.minRate = limits.minBytesPerSecond ?? 0
  }

  /** Frees the origin's connection; safe to call more than once. */
  async release(): Promise<void> {
    await this.chunks.return?.()
  }

  /** The first bytes, enough to sniff; what reading them throws is the origin's failure. */
  async readHead(): Promise<Buffer> {
    let head: Buffer = Buffer.alloc(0)
    try {
      while (head.length < SNIFF_BYTES) {
        const next = await this.chunks.next()
        if (next.done === true) {
          this.ended = true
          break
        }
        this.count(next.value)
        // The first chunk is almost always enough to sniff: kept as it is, not copied.
        head = head.length === 0 ? next.value : Buffer.concat([head, next.value])
      }
    } catch (error) {
      await this.release()
      throw originFailure(error)
    }
    return head
  }

  /** The image as its reader sees it: the whole body from `head` on, and what it has read and failed with. */
  guarded(head: Buffer, contentType: string): GuardedImage {
    const body = Readable.from(this.wholeBody(head), { objectMode: false })
    // A consumer that gives up before reading still frees the origin's connection.
    body.once('close', () => void this.release())
    return { contentType, body, bytesRead: () => this.bytes, failure: () => this.failure }
  }

  // Only what reading the origin throws counts against it. An error thrown in at a `yield` comes
  // from the reader (an upload that failed and destroyed the body) and passes through unblamed.
  private async *wholeBody(head: Buffer): AsyncGenerator<Buffer> {
    try {
      yield head
      while (!this.ended) {
        const next = await this.nextFromOrigin()
        if (next.done === true) break
        yield next.value
      }
      const expected = this.limits.expectedBytes
      if (expected !== undefined && this.bytes !== expected) {
        throw this.blame(new DownloadError('truncated', `body has ${this.bytes} bytes, Content-Length promised ${expected}`, { retryable: true }))
      }
    } finally {
      await this.release()
    }
  }

  private async nextFromOrigin(): Promise<IteratorResult<Buffer>> {
    try {
      const read = await this.chunks.next()
      if (read.done !== true) this.count(read.value)
      return read
    } catch (error) {
      throw this.blame(error)
    }
  }

  /** What reading the origin threw, as the origin's failure and the body's. */
  private blame(error: unknown): DownloadError {
    this.failure = originFailure(error)
    return this.failure
  }

  private count(chunk: Buffer): void {
    this.bytes += chunk.length
    if (this.bytes > this.limits.maxBytes) {
      throw new DownloadError('too_large', `image is larger than ${this.limits.maxBytes} bytes`)
    }
    const elapsedMs = performance.now() - this.startedAt
    if (this.minRate > 0 && elapsedMs > RATE_GRACE_MS && this.bytes < (this.minRate * elapsedMs) / 1000) {
      const rate = Math.round((this.bytes * 1000) / elapsedMs)
      throw new DownloadError('timeout', `body arrives at ${rate} bytes/s, slower than ${this.minRate}`, { retryable: true })
    }
  }
}
