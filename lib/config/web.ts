import { keyPrefixProblem } from '../download/keys.ts'
import { ConfigError, integerInRange, optionalHttpUrl, present, requiredString, type Env } from './env.ts'

/** The gallery's settings, when the stage serves it. */
export interface GalleryConfig {
  readonly bucket: string
  readonly localS3Endpoint: string | undefined
  readonly rootPrefix: string
  readonly tableName: string
  readonly localDynamoDbEndpoint: string | undefined
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
  const rootPrefix = env['KEY_PREFIX'] ?? 'flags/'
  // A folder: the gallery must never reach `flags-other/` from `flags`, nor the whole bucket from ''.
  const problem = rootPrefix === '' || !rootPrefix.endsWith('/') ? 'must be a folder, ending in "/", to serve the gallery' : keyPrefixProblem(rootPrefix)
  if (problem !== undefined) throw new ConfigError('KEY_PREFIX', `${problem}, got "${rootPrefix}"`)
  const bucket = requiredString(env, 'BUCKET_NAME')
  const localS3Endpoint = optionalHttpUrl(env, 'LOCAL_S3_ENDPOINT')
  const region = present(env, 'AWS_REGION') ?? 'us-east-1'
  const imageOrigin = localS3Endpoint ?? optionalHttpUrl(env, 'AWS_ENDPOINT_URL_S3') ?? s3Origin(bucket, region)
  const gallery = Object.freeze({
    bucket,
    localS3Endpoint,
    rootPrefix,
    tableName: requiredString(env, 'JOBS_TABLE'),
    localDynamoDbEndpoint: optionalHttpUrl(env, 'LOCAL_DYNAMODB_ENDPOINT'),
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
