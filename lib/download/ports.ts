import type { Readable } from 'node:stream'

/** What an origin said about the version of an image it served, kept to ask "has it changed?" later. */
export interface OriginValidators {
  readonly etag?: string
  readonly lastModified?: string
}

/** Validators from whichever of the two an origin sent (an absent one is left out, not undefined). */
export function originValidators(etag: string | undefined, lastModified: string | undefined): OriginValidators {
  return { ...(etag === undefined ? {} : { etag }), ...(lastModified === undefined ? {} : { lastModified }) }
}

/** One image request; validators make it conditional, so an unchanged image answers 304. */
export interface ImageRequest {
  readonly url: string
  readonly signal: AbortSignal
  readonly validators?: OriginValidators
}

/** The headers of an origin's answer that the engine acts on. */
export interface OriginHeaders extends OriginValidators {
  readonly contentLength?: number
  /** The raw `Retry-After` value, seconds or an HTTP date. */
  readonly retryAfter?: string
}

/** An origin's answer to one image request. The body must be read or discarded. */
export interface OriginResponse {
  readonly status: number
  readonly headers: OriginHeaders
  /** The body; its errors are TransportErrors. */
  readonly body: Readable
  /** Releases an unread body so its connection can be reused. */
  discard(): Promise<void>
}

/** Why a connection to an origin failed, in words the engine can act on. */
export type TransportFailure = 'timeout' | 'reset' | 'truncated' | 'network' | 'blocked' | 'bad_response'

/** Where images come from: one GET per request. Rejects with a TransportError on network failure. */
export interface ImageSource {
  get(request: ImageRequest): Promise<OriginResponse>
}

/** One object to store, streamed, with the origin validators it was served under. */
export interface ObjectToStore {
  readonly key: string
  /** The whole body, read and checked; or a stream of one larger than a part, which fails if its origin does. */
  readonly body: Buffer | Readable
  readonly contentType: string
  readonly validators: OriginValidators
}

/** Where images go. */
export interface ObjectSink {
  /** The origin validators a stored object was saved with, or undefined when there is no object. */
  validatorsOf(key: string, signal: AbortSignal): Promise<OriginValidators | undefined>
  /**
   * Of these keys, the ones known to have no object, found in a few listings rather than a look-up
   * per key; a key left out may still have none, and is looked up. A sink without listings leaves
   * this out.
   */
  keysWithoutObject?(keys: readonly string[], signal: AbortSignal): Promise<ReadonlySet<string>>
  /**
   * Stores the object. Resolves only once the whole object is stored; if the body fails or the
   * signal aborts, rejects and leaves whatever was stored under the key before untouched.
   */
  put(object: ObjectToStore, signal: AbortSignal): Promise<void>
}
