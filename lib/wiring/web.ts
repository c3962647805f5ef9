import { createS3Client } from '../adapters/s3/client.ts'
import { s3ImageShelf } from '../adapters/s3/imageShelf.ts'
import type { GalleryConfig } from '../config/web.ts'
import { galleryView, jobPageView, type Gallery } from '../gallery/gallery.ts'
import { jobStatusOf } from '../jobs/status.ts'
import { jobReader } from './jobStore.ts'

// The jobs list shows this many, newest first.
const RECENT_JOBS = 20

/** The gallery bound to S3 and DynamoDB, both read only. */
export function composeGallery(config: GalleryConfig): Gallery {
  const shelf = s3ImageShelf(createS3Client({ localEndpoint: config.localS3Endpoint }), config.bucket)
  const jobs = jobReader(config)
  const rules = { keyPrefix: config.keyPrefix, pageSize: config.pageSize }
  return {
    page: (query) => galleryView(query, shelf, rules),
    job: (jobId) => jobPageView(jobId, jobs, shelf),
    jobStatus: (jobId) => jobStatusOf({ jobId }, jobs),
    recentJobs: () => jobs.recent(RECENT_JOBS),
    imageOrigin: config.imageOrigin,
  }
}
