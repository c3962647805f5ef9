import { loadBucket, type BucketConfig } from './bucket.ts'
import { folderPrefix, integerInRange, optionalHttpUrl, present, type Env } from './env.ts'
import { loadJobTable, type JobTableConfig } from './jobStore.ts'

/** The gallery's settings, when the stage serves it: the bucket and the jobs table, both read only. */
export interface GalleryConfig extends BucketConfig, JobTableConfig {
  /** The folder the gallery shows, and never anything outside it. */
  readonly keyPrefix: string
  readonly pageSize: number
  /** The region the bucket is in (Lambda's own, AWS_REGION). */
  readonly region: string
  /** Where the images' presigned URLs point, for the pages' policy. */
  readonly imageOrigin: string
}

/** What the web function reads: the gallery's settings, or undefined when the stage does not serve it. */
export interface WebConfig {
  readonly gallery: GalleryConfig | undefined
  /** Where the gallery's images are loaded from (its presigned URLs' origin), for the pages' policy. */
  readonly imageOrigin: string | undefined
}

export const DEFAULT_GALLERY_PAGE_SIZE = 100

/**
 * Reads the web function's environment. GALLERY (`on`, set only where the stage serves the
 * gallery: stage local, or a deployed stage with an authorizer) turns the gallery pages on.
 */
export function loadWebConfig(env: Env = process.env): WebConfig {
  if (present(env, 'GALLERY') !== 'on') return Object.freeze({ gallery: undefined, imageOrigin: undefined })
  // A folder: the gallery must never reach `flags-other/` from `flags`, nor the whole bucket from ''.
  const keyPrefix = folderPrefix(env, 'KEY_PREFIX', 'flags/', 'to serve the gallery')
  const bucket = loadBucket(env)
  const region = present(env, 'AWS_REGION') ?? 'us-east-1'
  const imageOrigin = bucket.localS3Endpoint ?? optionalHttpUrl(env, 'AWS_ENDPOINT_URL_S3') ?? s3Origin(bucket.bucket, region)
  const gallery = Object.freeze({
    ...bucket,
    keyPrefix,
    ...loadJobTable(env),
    pageSize: integerInRange(env, 'GALLERY_PAGE_SIZE', DEFAULT_GALLERY_PAGE_SIZE, 1, 1000),
    region,
    imageOrigin,
  })
  return Object.freeze({ gallery, imageOrigin })
}

/**
 * The origin of the presigned URLs the SDK makes for a bucket: virtual-hosted, unless the name
 * cannot be a host name (dots, capitals), which S3 serves path-style; China's partition has its own domain.
 */
export function s3Origin(bucket: string, region: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'
  return /^[a-z0-9-]+$/.test(bucket) ? `https://${bucket}.s3.${region}.${domain}` : `https://s3.${region}.${domain}`
}
