import type { GalleryConfig } from '../config/web.ts'
import type { Gallery } from '../gallery/gallery.ts'

/**
 * The gallery, its AWS clients loaded on its first request rather than at the web function's cold
 * start: the index and hello pages start in a few milliseconds, without the SDK.
 */
export function lazyGallery(config: GalleryConfig): Gallery {
  let loaded: Promise<Gallery> | undefined
  const gallery = () =>
    (loaded ??= import('./web.ts')
      .then((wiring) => wiring.composeGallery(config))
      .catch((error: unknown) => {
        // Not kept: the next request tries again.
        loaded = undefined
        throw error
      }))
  return {
    page: async (query) => (await gallery()).page(query),
    job: async (jobId) => (await gallery()).job(jobId),
    jobStatus: async (jobId) => (await gallery()).jobStatus(jobId),
    recentJobs: async () => (await gallery()).recentJobs(),
    imageOrigin: config.imageOrigin,
  }
}
