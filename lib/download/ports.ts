import type { Readable } from 'node:stream'

/** An origin's answer to one image request. The body must be read or discarded. */
export interface OriginResponse {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: Readable
  /** Releases an unread body so its connection can be reused. */
  discard(): Promise<void>
}

/** Where images come from: one GET per URL. Rejects on network failure. */
export interface ImageSource {
  get(url: string, signal: AbortSignal): Promise<OriginResponse>
}

/** One object to store, streamed. */
export interface ObjectToStore {
  readonly key: string
  readonly body: Readable
  readonly contentType: string
}

/** Where images go. Resolves only once the whole object is stored; rejects otherwise. */
export interface ObjectSink {
  put(object: ObjectToStore, signal: AbortSignal): Promise<void>
}
