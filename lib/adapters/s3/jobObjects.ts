import { GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { ObjectTooLarge } from '../../jobs/errors.ts'
import type { JobObjects } from '../../jobs/ports.ts'

/** Manifests, plans and reports: text objects in the images bucket. */
export function s3JobObjects(client: S3Client, bucket: string): JobObjects {
  return {
    async readText(key, maxBytes) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        if (object.ContentLength !== undefined && object.ContentLength > maxBytes) {
          // Not read: the connection is dropped rather than drained of a large body.
          ;(object.Body as { destroy?: () => void } | undefined)?.destroy?.()
          throw new ObjectTooLarge(`${key} is ${object.ContentLength} bytes`)
        }
        return (await object.Body?.transformToString('utf-8')) ?? ''
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined
        throw error
      }
    },

    async writeText(key, text, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType, ChecksumAlgorithm: 'CRC32' }))
    },

    async readRange(key, start, end) {
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }))
        const bytes = await object.Body?.transformToByteArray()
        if (bytes === undefined || bytes.length !== end - start) throw new RangeError(`${key}: bytes ${start}-${end - 1} are not all there`)
        return Buffer.from(bytes).toString('utf8')
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined
        throw error
      }
    },

    async writeLines(key, lines, contentType) {
      const parts: string[] = []
      for await (const line of lines) parts.push(`${line}\n`)
      const text = parts.join('')
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType, ChecksumAlgorithm: 'CRC32' }))
      return { bytes: Buffer.byteLength(text) }
    },
  }
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
