import { createDynamoDbClient } from '../adapters/dynamodb/client.ts'
import { dynamoJobStore } from '../adapters/dynamodb/jobStore.ts'
import { createS3Client } from '../adapters/s3/client.ts'
import { s3ImageShelf } from '../adapters/s3/imageShelf.ts'
import type { GalleryConfig } from '../config/web.ts'
import { galleryView, jobPageView, type Gallery } from '../gallery/gallery.ts'
import { jobStatusOf } from '../jobs/status.ts'

// The jobs list shows this many, newest first.
const RECENT_JOBS = 20
// The jobs store's expiry is a writer's concern; a reader never sets it.
const READ_ONLY_TTL_DAYS = 1

/** The gallery bound to S3 and DynamoDB. */
export function composeGallery(config: GalleryConfig): Gallery {
  const shelf = s3ImageShelf(createS3Client({ localEndpoint: config.localS3Endpoint }), config.bucket)
  const store = dynamoJobStore(createDynamoDbClient({ localEndpoint: config.localDynamoDbEndpoint }), config.tableName, { ttlDays: READ_ONLY_TTL_DAYS })
  const rules = { rootPrefix: config.rootPrefix, pageSize: config.pageSize }
  return {
    page: (query) => galleryView(query, shelf, rules),
    job: (jobId) => jobPageView(jobId, store, shelf),
    jobStatus: (jobId) => jobStatusOf({ jobId }, store),
    recentJobs: () => store.recent(RECENT_JOBS),
    imageOrigin: config.imageOrigin,
  }
}
