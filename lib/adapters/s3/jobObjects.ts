import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  type CompletedPart,
  type GetObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3'
import { ObjectAccessDenied, ObjectTooLarge, ObjectTooShort } from '../../jobs/errors.ts'
import type { JobObjects } from '../../jobs/ports.ts'

/** S3's smallest part (but the last): the unit a streamed object is written in, and the most a write holds twice. */
export const JOB_OBJECT_PART_BYTES = 5 * 1024 * 1024

// Cleaning up after a failed write must not hold its caller: parts left behind are never an
// object, and the bucket's lifecycle rule removes them after a day.
const ABORT_UPLOAD_TIMEOUT_MS = 1000

/**
 * Manifests, plans and reports: text objects in the images bucket. Small ones are read and
 * written whole; a plan is read a line at a time by ranged GETs, and plans and reports are
 * written from lines, streamed.
 *
 * Writes go through the SDK's S3Client, not the signed requests of the image uploads
 * (signedRequests.ts): those save about 0.5 ms of CPU on each of thousands of HEADs and PUTs per
 * run (docs/performance.md), while a job writes a plan and a report, a few requests each, and a
 * large one needs the multipart calls only the SDK has. The parts are cut here rather than by
 * lib-storage's Upload, for two things it does not do. Held to about two parts (queueSize 1), it
 * reads no line while a part uploads; this fills the next part meanwhile, in as little memory
 * (writing 40 MiB, both peaked at 16-21 MiB of heap and buffers beside the local S3; Upload at
 * queueSize 2, 46 MiB). And when its AbortMultipartUpload fails, Upload throws that failure in
 * place of the part's; this keeps the write's own error.
 */
export function s3JobObjects(client: S3Client, bucket: string): JobObjects {
  /** The object, or undefined when there is none. */
  async function getObject(key: string, range?: string): Promise<GetObjectCommandOutput | undefined> {
    try {
      return await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }))
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined
      // What S3 answers for a key that is not there when the reader may not list the bucket.
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403) throw new ObjectAccessDenied(`${key}: ${error.name}`, { cause: error })
      throw error
    }
  }

  async function putObject(key: string, body: string | Buffer, contentType: string): Promise<void> {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ChecksumAlgorithm: 'CRC32' }))
  }

  return {
    async readText(key, maxBytes) {
      const object = await getObject(key)
      if (object === undefined) return undefined
      if (object.ContentLength !== undefined && object.ContentLength > maxBytes) {
        // Not read: the connection is dropped rather than drained of a large body.
        ;(object.Body as { destroy?: () => void } | undefined)?.destroy?.()
        throw new ObjectTooLarge(`${key} is ${object.ContentLength} bytes`)
      }
      return (await object.Body?.transformToString('utf-8')) ?? ''
    },

    async readRange(key, start, end) {
      checkByteRange(start, end)
      let object: GetObjectCommandOutput | undefined
      try {
        object = await getObject(key, `bytes=${start}-${end - 1}`)
      } catch (error) {
        // 416: the object ends before `start`.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 416) {
          throw new ObjectTooShort(`${key} ends before byte ${start}`, { cause: error })
        }
        throw error
      }
      if (object === undefined) return undefined
      const bytes = Buffer.from((await object.Body?.transformToByteArray()) ?? new Uint8Array())
      // S3 answers a range that runs past the end with the bytes there are.
      if (bytes.length < end - start) throw new ObjectTooShort(`${key} ends before byte ${end} (${object.ContentRange ?? 'no range answered'})`)
      if (bytes.length > end - start) throw new Error(`${key}: S3 answered ${bytes.length} bytes for the ${end - start} of bytes=${start}-${end - 1}`)
      return bytes.toString('utf8')
    },

    writeText: putObject,

    async writeLines(key, lines, contentType) {
      let uploadId: string | undefined
      const uploaded: CompletedPart[] = []
      let inFlight: Promise<void> | undefined
      let bytes = 0
      const uploadPart = async (id: string, partNumber: number, body: Buffer) => {
        const part = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: id, PartNumber: partNumber, Body: body, ChecksumAlgorithm: 'CRC32' }))
        uploaded.push({ PartNumber: partNumber, ETag: part.ETag, ChecksumCRC32: part.ChecksumCRC32 })
      }
      try {
        for await (const { body, last } of partsOf(lines, JOB_OBJECT_PART_BYTES)) {
          bytes += body.length
          if (last && uploadId === undefined) {
            await putObject(key, body, contentType)
            return { bytes }
          }
          uploadId ??= await createUpload(key, contentType)
          // One part uploads while the next is filled, never two: parts are pushed in order.
          await inFlight
          const sending = uploadPart(uploadId, uploaded.length + 1, body)
          // Awaited before the next part is sent; until then a failure must not go unhandled.
          sending.catch(() => undefined)
          inFlight = sending
        }
        await inFlight
        if (uploadId === undefined) throw new Error(`${key}: no part was written`)
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: uploaded },
          }),
        )
        return { bytes }
      } catch (error) {
        if (uploadId !== undefined) {
          // A part still uploading could outlive an abort sent before it ends, and be left behind.
          await inFlight?.catch(() => undefined)
          await abortUpload(key, uploadId)
        }
        throw error
      }
    },
  }

  async function createUpload(key: string, contentType: string): Promise<string> {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType, ChecksumAlgorithm: 'CRC32' }))
    if (UploadId === undefined) throw new Error(`${key}: S3 started a multipart upload without an UploadId`)
    return UploadId
  }

  /** Discards the parts uploaded; a failure to is left to the lifecycle rule, and the write's own error stands. */
  async function abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }), { abortSignal: AbortSignal.timeout(ABORT_UPLOAD_TIMEOUT_MS) })
    } catch {
      // The lifecycle rule (AbortIncompleteMultipartUpload) removes the parts.
    }
  }
}

/** A range of bytes a reader may ask for: 0 <= start < end, both integers. */
function checkByteRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    throw new RangeError(`a byte range needs 0 <= start < end, both integers; got [${start}, ${end})`)
  }
}

/** A part of an object being written: `last` when no byte follows it. */
interface Part {
  readonly body: Buffer
  readonly last: boolean
}

/**
 * The bytes of `lines`, each followed by '\n', cut into parts of exactly `partBytes` but the last
 * (which may be empty). Each part is a buffer of its own, filled in place; a full part is handed
 * on only once a byte after it is known, so the last is always marked, and the next part's
 * buffer is made only when the consumer asks for it.
 */
async function* partsOf(lines: AsyncIterable<string>, partBytes: number): AsyncGenerator<Part> {
  let part: Buffer | undefined
  let filled = 0
  for await (const line of lines) {
    let rest = Buffer.from(`${line}\n`, 'utf8')
    while (rest.length > 0) {
      if (part !== undefined && filled === partBytes) {
        yield { body: part, last: false }
        part = undefined
      }
      if (part === undefined) {
        part = Buffer.allocUnsafe(partBytes)
        filled = 0
      }
      const copied = rest.copy(part, filled)
      filled += copied
      rest = rest.subarray(copied)
    }
  }
  yield { body: part === undefined ? Buffer.alloc(0) : part.subarray(0, filled), last: true }
}

/** Whether an object is stored under the key: one HEAD. */
export function s3ObjectExists(client: S3Client, bucket: string): (key: string) => Promise<boolean> {
  return async (key) => {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      return true
    } catch (error) {
      if (error instanceof NotFound || error instanceof NoSuchKey) return false
      throw error
    }
  }
}
