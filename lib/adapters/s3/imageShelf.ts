import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3ServiceException, type S3Client } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { ValidationError } from '../../errors.ts'
import type { ImageShelf } from '../../gallery/ports.ts'

/** How long a page's image URLs work: long enough to load the page, short enough not to be shared. */
export const VIEW_URL_SECONDS = 300

/** The images bucket, read only, as the gallery pages see it: listings, types and presigned GETs. */
export function s3ImageShelf(client: S3Client, bucket: string): ImageShelf {
  return {
    async list(prefix, token, max) {
      const page = await client
        .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: max, ContinuationToken: token }))
        .catch((error: unknown) => {
          // A token S3 does not recognise is the caller's to fix, not a fault of ours.
          if (token !== undefined && error instanceof S3ServiceException && error.name === 'InvalidArgument') throw new ValidationError('next: not a page of this gallery')
          throw error
        })
      const images = (page.Contents ?? []).map((object) => ({
        key: object.Key ?? '',
        bytes: object.Size ?? 0,
        storedAt: (object.LastModified ?? new Date(0)).toISOString(),
      }))
      return page.IsTruncated === true && page.NextContinuationToken !== undefined ? { images, nextToken: page.NextContinuationToken } : { images }
    },

    async contentTypeOf(key) {
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))
      return head.ContentType
    },

    viewUrl: (key) => getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: VIEW_URL_SECONDS }),
  }
}
