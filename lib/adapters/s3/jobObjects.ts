import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3'
import { ObjectAccessDenied, ObjectTooLarge } from '../../jobs/errors.ts'
import type { JobObjects } from '../../jobs/ports.ts'

/** Manifests and reports: small text objects in the images bucket, read and written whole. */
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
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403) throw new ObjectAccessDenied(`${key}: ${error.name}`, { cause: error })
        throw error
      }
    },

    async writeText(key, text, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType, ChecksumAlgorithm: 'CRC32' }))
    },
  }
}
