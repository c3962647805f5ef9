import { AbortMultipartUploadCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { crc32 } from 'node:zlib'
import { originValidators, type ObjectSink, type OriginValidators } from '../../download/ports.ts'
import { S3_TIMEOUTS_MS } from './client.ts'
import { signedS3Requests } from './signedRequests.ts'

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

/**
 * Listings a run may spend to learn which of its keys have no object: one page (up to 1000
 * keys) per this many keys of the run. A listing replaces up to 1000 HEADs; when the bucket
 * holds many more keys between the run's first and last than the run has, the pages run out
 * and the keys past the last one listed are looked up one by one.
 */
export const KEYS_PER_LISTING = 500

/** Below this many keys a listing saves nothing: a LIST is priced as 12.5 HEADs and delays the first GET. */
export const MIN_KEYS_TO_LIST = 20

/** Every GET of the run waits for the listing; a slow one is given up for a look-up per key. */
export const LISTING_TIMEOUT_MS = 3000

// User metadata keys (x-amz-meta-*) the origin's validators are kept under.
const ETAG_METADATA = 'origin-etag'
const LAST_MODIFIED_METADATA = 'origin-last-modified'
// Cleaning up a multipart upload that was cut short must not eat the time kept to answer; a part
// left behind is never an object, and the bucket's lifecycle rule removes it after a day.
const ABORT_UPLOAD_TIMEOUT_MS = 1000

/**
 * An ObjectSink that streams each object into one bucket. An object appears only whole: a body
 * read whole goes up in one PUT, a streamed one as a multipart upload completed only once its body
 * has ended and aborted otherwise. Every upload carries a CRC32 that S3 checks.
 */
export function s3ObjectSink(client: S3Client, bucket: string): ObjectSink {
  const signed = signedS3Requests(client, bucket, S3_TIMEOUTS_MS)
  return {
    async validatorsOf(key, signal) {
      const headers = await signed.head(key, signal)
      if (headers === undefined) return undefined
      return originValidators(headers[`x-amz-meta-${ETAG_METADATA}`], headers[`x-amz-meta-${LAST_MODIFIED_METADATA}`])
    },

    async keysWithoutObject(keys, signal) {
      return keysWithoutObject(client, bucket, keys, signal)
    },

    async put({ key, body, contentType, validators }, signal) {
      signal.throwIfAborted()
      if (Buffer.isBuffer(body)) {
        const headers: Record<string, string> = { 'content-type': contentType, 'x-amz-checksum-crc32': crc32Base64(body) }
        for (const [name, value] of Object.entries(metadataOf(validators))) headers[`x-amz-meta-${name}`] = value
        return signed.put(key, body, headers, signal)
      }
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
      // Failing the body, rather than Upload.abort(), lets the upload abort its parts before it rejects.
      const abort = () => body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'))
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
 * The keys with no object, from listing the bucket from the first key to the last (in S3's order,
 * which for these ASCII keys is JavaScript's) within the listings the run may spend. A listing
 * refused (no s3:ListBucket) or failed answers "none known", and every key is looked up.
 */
async function keysWithoutObject(client: S3Client, bucket: string, keys: readonly string[], signal: AbortSignal): Promise<ReadonlySet<string>> {
  if (keys.length < MIN_KEYS_TO_LIST) return new Set()
  const sorted = [...keys].sort()
  const first = sorted[0]
  const last = sorted.at(-1)
  if (first === undefined || last === undefined) return new Set()
  const stored = new Set<string>()
  // The listing covers every key up to here; past it, nothing is known.
  let listedThrough = ''
  let continuationToken: string | undefined
  const listing = AbortSignal.any([signal, AbortSignal.timeout(LISTING_TIMEOUT_MS)])
  try {
    for (let pages = Math.ceil(sorted.length / KEYS_PER_LISTING); pages > 0; pages -= 1) {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: commonPrefix(first, last),
          // The key before the first, so that the first is listed too.
          StartAfter: first.slice(0, -1),
          ContinuationToken: continuationToken,
        }),
        { abortSignal: listing },
      )
      for (const object of page.Contents ?? []) if (object.Key !== undefined) stored.add(object.Key)
      listedThrough = page.Contents?.at(-1)?.Key ?? listedThrough
      // Only a page that says it is the last covers the rest of the range.
      if (page.IsTruncated !== true) listedThrough = last
      if (listedThrough >= last || page.NextContinuationToken === undefined) break
      continuationToken = page.NextContinuationToken
    }
  } catch {
    signal.throwIfAborted()
    return new Set()
  }
  return new Set(sorted.filter((key) => key <= listedThrough && !stored.has(key)))
}

function commonPrefix(a: string, b: string): string {
  let length = 0
  while (length < a.length && a[length] === b[length]) length += 1
  return a.slice(0, length)
}

/** A body's CRC32 as S3 takes it in x-amz-checksum-crc32: the four bytes, big-endian, in base64. */
function crc32Base64(body: Buffer): string {
  const checksum = Buffer.alloc(4)
  checksum.writeUInt32BE(crc32(body))
  return checksum.toString('base64')
}

/**
 * The client as an Upload sees it, with the signal on every request it sends, so that an abort
 * cuts short an UploadPart or CompleteMultipartUpload already in flight. The AbortMultipartUpload
 * that cleans up after it gets a short time of its own instead.
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
