import { optionalHttpUrl, requiredString, type Env } from './env.ts'

/** The bucket the images are stored in, and where it is. */
export interface BucketConfig {
  readonly bucket: string
  /** The local S3 server to use instead of AWS, with its development keys: stage local only. */
  readonly localS3Endpoint: string | undefined
}

/** The images bucket: BUCKET_NAME, and LOCAL_S3_ENDPOINT on stage local. */
export function loadBucket(env: Env): BucketConfig {
  return Object.freeze({ bucket: requiredString(env, 'BUCKET_NAME'), localS3Endpoint: optionalHttpUrl(env, 'LOCAL_S3_ENDPOINT') })
}
