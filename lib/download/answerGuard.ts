import { DownloadError } from './errors.ts'
import { httpFailure } from './failures.ts'
import type { OriginResponse } from './ports.ts'
import { parseRetryAfter } from './retry.ts'

// Checks on an origin's answer made before a byte of its body is read: its status and its declared size.

/** What a conditional request's 304 means: the stored copy is current. */
export const UNCHANGED = Object.freeze({ kind: 'unchanged' as const })

/**
 * Ends an answer other than 200, its body discarded so that the connection can be reused: a 304
 * to a conditional request is `UNCHANGED`; any other status rejects as the origin's HTTP failure.
 */
export async function endUnreadAnswer(response: OriginResponse, conditional: boolean): Promise<typeof UNCHANGED> {
  await response.discard().catch(() => undefined)
  if (response.status === 304 && conditional) return UNCHANGED
  throw httpFailure(response.status, parseRetryAfter(response.headers.retryAfter))
}

/** Refuses a body whose Content-Length is over the limit, closing its request at once, before anything is read or admitted for it. */
export function refuseDeclaredOversize(response: OriginResponse, maxImageBytes: number): void {
  const { contentLength } = response.headers
  if (contentLength !== undefined && contentLength > maxImageBytes) {
    response.body.destroy()
    throw new DownloadError('too_large', `Content-Length ${contentLength} is over ${maxImageBytes} bytes`)
  }
}
