/** One stored image as a listing tells it. */
export interface StoredImage {
  readonly key: string
  readonly bytes: number
  /** When it was stored, ISO 8601. */
  readonly storedAt: string
}

/** One page of a listing, and where the next one starts. */
export interface ImagePage {
  readonly images: readonly StoredImage[]
  readonly nextToken?: string
}

/** The bucket as the pages see it: read only. */
export interface ImageShelf {
  /** Up to `max` objects under `prefix`, from `token` on (a token from an earlier page). */
  list(prefix: string, token: string | undefined, max: number): Promise<ImagePage>
  /** The Content-Type an object was stored with. */
  contentTypeOf(key: string): Promise<string | undefined>
  /** A short-lived URL a browser can GET the object from, the bucket staying private. */
  viewUrl(key: string): Promise<string>
}
