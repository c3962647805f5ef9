import pLimit from 'p-limit'
import type { DownloadPlan } from './request.ts'
import type { ImageSource, ObjectSink } from './ports.ts'

export type DownloadStatus = 'ok' | 'not_found' | 'error'

/** Why one code did not end as `ok`. */
export interface DownloadFailure {
  readonly code: string
  readonly status: Exclude<DownloadStatus, 'ok'>
  /** The origin's status, when it answered. */
  readonly httpStatus?: number
  readonly message: string
}

/** The outcome of one batch: every requested code is counted exactly once. */
export interface DownloadReport {
  readonly counter: Record<DownloadStatus, number>
  readonly total: number
  readonly prefix: string
  readonly elapsedMs: number
  readonly failures: DownloadFailure[]
}

export interface DownloadPorts {
  readonly source: ImageSource
  readonly sink: ObjectSink
  /** Aborts the downloads still running, e.g. before the Lambda deadline. */
  readonly signal?: AbortSignal
  readonly now?: () => number
}

type Outcome = { readonly status: 'ok' } | DownloadFailure

const FALLBACK_CONTENT_TYPE = 'application/octet-stream'

/** Maps an origin's HTTP status to the status it is counted under, as the original downloader did. */
export function statusForHttp(httpStatus: number): DownloadStatus {
  if (httpStatus === 200) return 'ok'
  if (httpStatus === 404) return 'not_found'
  return 'error'
}

/** The S3 key a code is stored under. */
export function objectKey(prefix: string, code: string): string {
  return `${prefix}${code.toLowerCase()}.jpg`
}

/** The URL a code is fetched from. */
export function imageUrl(baseUrl: string, code: string): string {
  return `${baseUrl}/${encodeURIComponent(code.toLowerCase())}.jpg`
}

/**
 * Downloads every code of the plan from the source into the sink, at most `plan.concurrency`
 * at a time, and counts each code under exactly one status. Never rejects for a single code.
 */
export async function runDownloads(plan: DownloadPlan, ports: DownloadPorts): Promise<DownloadReport> {
  const now = ports.now ?? (() => performance.now())
  const signal = ports.signal ?? new AbortController().signal
  const startedAt = now()
  // One limiter per run: the cap is per invocation, and a shared limiter would couple runs.
  const limit = pLimit(plan.concurrency)

  const outcomes = await Promise.all(
    plan.codes.map((code) => limit(() => downloadOne(code, plan, ports, signal))),
  )

  const counter: Record<DownloadStatus, number> = { ok: 0, not_found: 0, error: 0 }
  const failures: DownloadFailure[] = []
  for (const outcome of outcomes) {
    counter[outcome.status] += 1
    if (outcome.status !== 'ok') failures.push(outcome)
  }
  return {
    counter,
    total: plan.codes.length,
    prefix: plan.prefix,
    elapsedMs: Math.round(now() - startedAt),
    failures,
  }
}

async function downloadOne(
  code: string,
  plan: DownloadPlan,
  { source, sink }: DownloadPorts,
  signal: AbortSignal,
): Promise<Outcome> {
  let response
  try {
    response = await source.get(imageUrl(plan.baseUrl, code), signal)
  } catch (error) {
    return { code, status: 'error', message: `origin: ${messageOf(error)}` }
  }

  const status = statusForHttp(response.status)
  if (status !== 'ok') {
    await response.discard().catch(() => undefined)
    return {
      code,
      status,
      httpStatus: response.status,
      message: status === 'not_found' ? 'not found' : `origin answered HTTP ${response.status}`,
    }
  }

  try {
    await sink.put(
      {
        key: objectKey(plan.prefix, code),
        body: response.body,
        contentType: response.contentType ?? FALLBACK_CONTENT_TYPE,
      },
      signal,
    )
    return { status: 'ok' }
  } catch (error) {
    // A body that broke mid-stream fails the upload too; blame the side that actually failed.
    const message = response.body.errored
      ? `origin: ${messageOf(response.body.errored)}`
      : `store: ${messageOf(error)}`
    response.body.destroy()
    return { code, status: 'error', httpStatus: response.status, message }
  }
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : ''
  return `${error.message}${cause}`
}
