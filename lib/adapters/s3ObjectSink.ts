import { S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { ObjectSink } from '../download/ports.ts'

// S3's minimum part: an image smaller than this goes up as one PutObject, larger ones in parts,
// so memory stays at one part per download whatever the image size.
const PART_SIZE_BYTES = 5 * 1024 * 1024

/** Where the S3 client connects: AWS itself, or an S3-compatible server for local runs. */
export interface S3Target {
  readonly s3Endpoint: string | undefined
}

// The local S3 server accepts any signature made with its well-known development keys.
const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }

/** Builds the S3 client: the default AWS chain, or path-style access to a local endpoint. */
export function createS3Client({ s3Endpoint }: S3Target): S3Client {
  if (s3Endpoint === undefined) return new S3Client({})
  return new S3Client({
    endpoint: s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: LOCAL_S3_CREDENTIALS,
  })
}

/**
 * An ObjectSink that streams each object into one bucket. A failed or aborted upload leaves
 * no object: a single-part upload is sent only once its body has been read whole, and a
 * multipart upload is aborted on error.
 */
export function s3ObjectSink(client: S3Client, bucket: string): ObjectSink {
  return {
    async put({ key, body, contentType }, signal) {
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType },
        partSize: PART_SIZE_BYTES,
        queueSize: 1,
        leavePartsOnError: false,
      })
      const abort = () => void upload.abort()
      signal.addEventListener('abort', abort, { once: true })
      try {
        await upload.done()
      } finally {
        signal.removeEventListener('abort', abort)
      }
    },
  }
}
