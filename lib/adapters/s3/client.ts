import { S3Client } from '@aws-sdk/client-s3'

/** Where the S3 client connects: AWS itself, or the local S3 server of a local run. */
export interface S3ClientOptions {
  /** The local S3 server (s3rver) to use instead of AWS; it is signed for with its development keys. */
  readonly localEndpoint?: string | undefined
}

// The local S3 server accepts any signature made with its well-known development keys.
const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

/** How long S3 may take to accept a connection, and to answer a request: for the SDK and the signed requests alike. */
export const S3_TIMEOUTS_MS = Object.freeze({ connect: 3000, request: 10_000 })

// A stalled S3 request fails (the SDK then retries it) instead of holding a download: without
// throwOnRequestTimeout the SDK only logs a warning when requestTimeout passes, and waits on.
const S3_TIMEOUTS = { connectionTimeout: S3_TIMEOUTS_MS.connect, requestTimeout: S3_TIMEOUTS_MS.request, throwOnRequestTimeout: true }

/** Builds the S3 client: the default AWS chain, or path-style access to the local S3 server. */
export function createS3Client({ localEndpoint }: S3ClientOptions = {}): S3Client {
  if (localEndpoint === undefined) return new S3Client({ requestHandler: S3_TIMEOUTS })
  return new S3Client({
    endpoint: localEndpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: LOCAL_S3_CREDENTIALS,
    requestHandler: S3_TIMEOUTS,
  })
}
