import pLimit from 'p-limit'
import { ValidationError } from '../errors.ts'
import { keyPrefixProblem } from '../download/keys.ts'
import type { JobFailure, JobStatus } from '../jobs/job.ts'
import type { JobStore } from '../jobs/ports.ts'
import { jobStatusOf } from '../jobs/status.ts'
import type { ImageShelf } from './ports.ts'

/** The gallery's reads, bound to the bucket and the jobs table: what the pages show. */
export interface Gallery {
  page(query: { prefix?: string | undefined; next?: string | undefined }): Promise<GalleryView>
  job(jobId: string): Promise<JobPageView>
  jobStatus(jobId: string): Promise<JobStatus>
  recentJobs(): Promise<JobStatus[]>
  /** Where the images' URLs point: the only origin the pages load images from. */
  readonly imageOrigin: string
}

/** What the gallery may show: the key prefix it is rooted at, and how many images a page holds. */
export interface GalleryRules {
  readonly keyPrefix: string
  readonly pageSize: number
}

/** One image as a gallery page shows it. */
export interface GalleryImage {
  readonly code: string
  readonly key: string
  readonly bytes: number
  readonly contentType: string
  readonly storedAt: string
  readonly url: string
}

export interface GalleryView {
  readonly prefix: string
  readonly images: readonly GalleryImage[]
  /** The token of the next page, when there is one. */
  readonly nextToken?: string
}

// A page's Content-Types are read a few at a time, not a hundred at once.
const TYPE_LOOKUPS_AT_ONCE = 16
// A listing's continuation token is opaque, but never this long.
const MAX_TOKEN_LENGTH = 2048

/** One page of the images under a prefix (the root when none is given), each with a URL to view it. */
export async function galleryView(query: { prefix?: string | undefined; next?: string | undefined }, shelf: ImageShelf, rules: GalleryRules): Promise<GalleryView> {
  const prefix = query.prefix === undefined || query.prefix === '' ? rules.keyPrefix : query.prefix
  const problem = prefix.startsWith(rules.keyPrefix) ? keyPrefixProblem(prefix) : `must start with "${rules.keyPrefix}"`
  if (problem !== undefined) throw new ValidationError(`prefix: ${problem}`)
  if (query.next !== undefined && (query.next.length === 0 || query.next.length > MAX_TOKEN_LENGTH)) throw new ValidationError('next: not a page of this gallery')
  const page = await shelf.list(prefix, query.next, rules.pageSize)
  const limit = pLimit(TYPE_LOOKUPS_AT_ONCE)
  const images = await Promise.all(
    page.images.map((image) =>
      limit(async () => ({
        ...image,
        code: codeOf(image.key, prefix),
        // One object gone between the listing and its look-up does not fail the page.
        contentType: (await shelf.contentTypeOf(image.key).catch(() => undefined)) ?? 'unknown',
        url: await shelf.viewUrl(image.key),
      })),
    ),
  )
  return { prefix, images, ...(page.nextToken === undefined ? {} : { nextToken: page.nextToken }) }
}

/** The code an image was stored for: its key past the prefix, without the `.jpg` every key ends with. */
function codeOf(key: string, prefix: string): string {
  return key.slice(prefix.length).replace(/\.jpg$/, '')
}

/** A job as its page shows it: its status, its failures so far, and where its report is. */
export interface JobPageView {
  readonly job: JobStatus
  readonly failures: readonly JobFailure[]
  /** Failures not shown, past the first MAX_FAILURES_SHOWN. */
  readonly moreFailures: number
  readonly reportUrl?: string
}

export const MAX_FAILURES_SHOWN = 100

/** A job's page: 400 for what cannot be a job id, 404 for no job. */
export async function jobPageView(jobId: string, store: Pick<JobStore, 'get' | 'failuresOf'>, shelf: ImageShelf): Promise<JobPageView> {
  const job = await jobStatusOf({ jobId }, store)
  const failures: JobFailure[] = []
  // Only as many chunk items as the first failures take: a large job's are never all read for a page.
  for await (const page of store.failuresOf(job.jobId)) {
    failures.push(...page.slice(0, MAX_FAILURES_SHOWN - failures.length))
    if (failures.length >= MAX_FAILURES_SHOWN) break
  }
  const failed = job.counter.not_found + job.counter.error
  const reportUrl = job.reportKey === null ? undefined : await shelf.viewUrl(job.reportKey)
  return { job, failures, moreFailures: Math.max(0, failed - failures.length), ...(reportUrl === undefined ? {} : { reportUrl }) }
}
