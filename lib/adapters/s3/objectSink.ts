import { AbortMultipartUploadCommand, HeadObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { originValidators, type ObjectSink, type OriginValidators } from '../../download/ports.ts'

/**
 * S3's minimum part: an image up to this size goes up as one PutObject, larger ones in parts, so
 * memory stays at a few parts per download whatever the image size.
 */
export const S3_PART_BYTES = 5 * 1024 * 1024

/**
 * What a streamed upload holds at once: the chunks gathering for the next part, that part joined
 * into one buffer, and the part in flight (one at a time, queueSize 1).
 */
export const S3_STREAMED_BYTES = 3 * S3_PART_BYTES

// User metadata keys (x-amz-meta-*) the origin's validators are kept under.
const ETAG_METADATA = 'origin-etag'
const LAST_MODIFIED_METADATA = 'origin-last-modified'
// Cleaning up a multipart upload that was cut short must not eat the time kept to answer; a part
// left behind is never an object, and the bucket's lifecycle rule removes it after a day.
const ABORT_UPLOAD_TIMEOUT_MS = 1000

/**
 * An ObjectSink that streams each object into one bucket. An object appears only whole: a
 * single-part upload is sent once its body has been read to the end, a multipart upload is
 * completed only then and aborted otherwise. Every part carries a CRC32 that S3 checks.
 */
export function s3ObjectSink(client: S3Client, bucket: string): ObjectSink {
  return {
    async validatorsOf(key, signal) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })
        return originValidators(head.Metadata?.[ETAG_METADATA], head.Metadata?.[LAST_MODIFIED_METADATA])
      } catch (error) {
        // Without s3:ListBucket, S3 answers a HEAD of a missing key with 403 rather than 404.
        const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined
        if (status === 404 || status === 403) return undefined
        throw error
      }
    },

    async put({ key, body, contentType, validators }, signal) {
      signal.throwIfAborted()
      const upload = new Upload({
        client: abortableClient(client, signal),
        params: {
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ChecksumAlgorithm: 'CRC32',
          Metadata: metadataOf(validators),
        },
        partSize: S3_PART_BYTES,
        queueSize: 1,
        leavePartsOnError: false,
      })
      // Failing a streamed body, rather than Upload.abort(), lets the upload abort its parts before
      // it rejects; a whole body's single PutObject is cut short by the signal it carries.
      const abort = () => {
        if (!Buffer.isBuffer(body)) body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
      }
      signal.addEventListener('abort', abort, { once: true })
      try {
        await upload.done()
      } finally {
        signal.removeEventListener('abort', abort)
      }
    },
  }
}

/**
 * The client as an Upload sees it, with the signal on every request it sends, so that an abort
 * cuts short a PutObject, UploadPart or CompleteMultipartUpload already in flight. The
 * AbortMultipartUpload that cleans up after it gets a short time of its own instead.
 */
function abortableClient(client: S3Client, signal: AbortSignal): S3Client {
  const send = ((command: Parameters<S3Client['send']>[0], options?: { abortSignal?: AbortSignal }) => {
    const abortSignal = command instanceof AbortMultipartUploadCommand ? AbortSignal.timeout(ABORT_UPLOAD_TIMEOUT_MS) : signal
    return client.send(command, { ...options, abortSignal })
  }) as S3Client['send']
  return Object.assign(Object.create(client) as S3Client, { send })
}

/** Validators as user metadata; a value S3 could not carry in a header is left out. */
function metadataOf(validators: OriginValidators): Record<string, string> {
  const metadata: Record<string, string> = {}
  if (isHeaderSafe(validators.etag)) metadata[ETAG_METADATA] = validators.etag
  if (isHeaderSafe(validators.lastModified)) metadata[LAST_MODIFIED_METADATA] = validators.lastModified
  return metadata
}

function isHeaderSafe(value: string | undefined): value is string {
  return value !== undefined && value.length <= 256 && /^[\x20-\x7e]+$/.test(value)
}
