import { setTimeout as sleep } from 'node:timers/promises'
import pLimit from 'p-limit'
import { startDeadline, type Deadline } from './deadline.ts'
import {
  DownloadError,
  deadlineFailure,
  httpFailure,
  clip,
  originFailure,
  storeFailure,
} from './failures.ts'
import { guardImageBody, type GuardedImage } from './imageGuard.ts'
import { originValidators, type ImageSource, type ObjectSink, type OriginResponse, type OriginValidators } from './ports.ts'
import { imageUrl, objectKey } from './keys.ts'
import { reportOf, type DownloadFailure, type DownloadObserver, type DownloadReport, type Outcome } from './report.ts'
import type { DownloadPlan } from './request.ts'
import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from './retry.ts'

/** The limits every run works within, from the function's configuration. */
export interface EngineSettings {
  readonly maxImageBytes: number
  readonly retry: RetryPolicy
  /** Time kept back before the deadline to abort running downloads, clean up and answer. */
  readonly deadlineReserveMs: number
  /** The longest one attempt may take, from the request to the body's last byte; then it fails as `timeout`. */
  readonly attemptTimeoutMs: number
  /** The slowest average a body may arrive at, in bytes per second, before it fails as `timeout`; 0: any. */
  readonly minBodyBytesPerSecond: number
}

/** The systems a run reads from and writes to. */
export interface DownloadPorts {
  readonly source: ImageSource
  readonly sink: ObjectSink
}

/** What the caller of one run controls: when it must stop, who watches, and (in tests) time and chance. */
export interface RunControls {
  /** Aborts the run from outside; what is cut short is reported as `deadline`. */
  readonly signal?: AbortSignal
  /** Time left before the invocation is stopped (Lambda's getRemainingTimeInMillis); none means no deadline. */
  readonly remainingMs?: () => number
  readonly observer?: DownloadObserver
  readonly now?: () => number
  readonly random?: () => number
}

interface Run {
  readonly plan: DownloadPlan
  readonly settings: EngineSettings
  readonly ports: DownloadPorts
  readonly random: (() => number) | undefined
  readonly deadline: Deadline
  /** The mean time a finished code took so far in this run: what starting one more is expected to cost. */
  typicalMs(): number
  recordMs(ms: number): void
}

// A failure message quotes what an origin sent (a redirect target, a host name); this long at most.
const MAX_MESSAGE_CHARACTERS = 300

/**
 * Downloads every code of the plan from the source into the sink, at most `plan.concurrency`
 * at a time, retrying in the slot it holds, and counts each code under exactly one status.
 * Never rejects for a single code; stops starting and aborts downloads when time runs out.
 */
export async function runDownloads(
  plan: DownloadPlan,
  settings: EngineSettings,
  ports: DownloadPorts,
  controls: RunControls = {},
): Promise<DownloadReport> {
  const now = controls.now ?? (() => performance.now())
  const startedAt = now()
  const deadline = startDeadline(controls.remainingMs, settings.deadlineReserveMs, controls.signal)
  let finishedMs = 0
  let finished = 0
  const run: Run = {
    plan,
    settings,
    ports,
    random: controls.random,
    deadline,
    typicalMs: () => (finished === 0 ? 0 : finishedMs / finished),
    recordMs: (ms) => {
      finishedMs += ms
      finished += 1
    },
  }

  // One limiter per run: the cap is per invocation, and a shared limiter would couple runs.
  const limit = pLimit(plan.concurrency)
  const total = plan.codes.length
  let done = 0
  const observed = async (code: string): Promise<Outcome> => {
    const codeStartedAt = now()
    const outcome = await downloadCode(code, run)
    done += 1
    const ms = Math.round(now() - codeStartedAt)
    // Codes cut short by the deadline say nothing about how long a download takes.
    if (outcome.status === 'ok' || outcome.reason !== 'deadline') run.recordMs(ms)
    controls.observer?.codeFinished(outcome.status === 'ok' ? { code, ...outcome, ms } : { ...outcome, ms })
    controls.observer?.progress(done, total)
    return outcome
  }
  let outcomes: Outcome[]
  try {
    outcomes = await Promise.all(plan.codes.map((code) => limit(() => observed(code))))
  } finally {
    deadline.dispose()
  }

  return reportOf(plan, outcomes, Math.round(now() - startedAt))
}

async function downloadCode(code: string, run: Run): Promise<Outcome> {
  if (!run.deadline.allowsStart(run.typicalMs())) return failed(code, deadlineFailure(), 0)
  return downloadWithRetries(code, run)
}

async function downloadWithRetries(code: string, run: Run): Promise<Outcome> {
  const { plan, settings, ports, deadline } = run
  const { signal } = deadline
  const key = objectKey(plan.prefix, code)

  let validators: OriginValidators | undefined
  if (!plan.force) {
    try {
      validators = await ports.sink.validatorsOf(key, signal)
    } catch (error) {
      return failed(code, signal.aborted ? deadlineFailure() : storeFailure(error), 0)
    }
  }

  const policy = settings.retry
  for (let attempt = 1; ; attempt += 1) {
    try {
      const stored = await fetchAndStore(imageUrl(plan.baseUrl, code), key, validators, run)
      return { status: 'ok', ...stored }
    } catch (error) {
      if (signal.aborted) return failed(code, deadlineFailure(), attempt)
      const failure = error instanceof DownloadError ? error : originFailure(error)
      if (!failure.retryable || attempt >= policy.maxAttempts) return failed(code, failure, attempt)
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxRetryAfterMs) {
        const waitS = Math.ceil(failure.retryAfterMs / 1000)
        return failed(code, failure, attempt, `${failure.message}, Retry-After ${waitS} s is beyond the wait allowed`)
      }
      const delayMs = failure.retryAfterMs ?? backoffDelayMs(attempt, policy, run.random)
      // Too little time for another attempt: the code failed for what the last attempt met.
      if (!deadline.allowsStart(delayMs + run.typicalMs())) return failed(code, failure, attempt)
      try {
        await sleep(delayMs, undefined, { signal })
      } catch {
        return failed(code, deadlineFailure(), attempt)
      }
    }
  }
}

/**
 * One attempt: a (conditional) GET, checks on the answer, and the body streamed into the sink.
 * The origin's part of it, from the request to the body's last byte, has `attemptTimeoutMs`.
 */
async function fetchAndStore(
  url: string,
  key: string,
  validators: OriginValidators | undefined,
  run: Run,
): Promise<{ unchanged: boolean; bytes: number }> {
  const { attemptTimeoutMs } = run.settings
  const attempt = new AbortController()
  const timer = setTimeout(() => attempt.abort(), attemptTimeoutMs)
  const originSignal = AbortSignal.any([run.deadline.signal, attempt.signal])
  // An origin cut off by the attempt's own clock failed by being too slow, whatever undici says;
  // any other origin error is passed on as the DownloadError it is or becomes.
  const originFault = (error: unknown) =>
    attempt.signal.aborted && !run.deadline.signal.aborted
      ? new DownloadError('timeout', `origin: attempt took longer than ${attemptTimeoutMs} ms`, { retryable: true, cause: error })
      : originFailure(error)
  try {
    return await exchange(url, key, validators, run, originSignal, originFault)
  } finally {
    clearTimeout(timer)
  }
}

async function exchange(
  url: string,
  key: string,
  validators: OriginValidators | undefined,
  { settings, ports, deadline: { signal } }: Run,
  originSignal: AbortSignal,
  originFault: (error: unknown) => DownloadError,
): Promise<{ unchanged: boolean; bytes: number }> {
  let response: OriginResponse
  try {
    const request = { url, signal: originSignal }
    response = await ports.source.get(validators === undefined ? request : { ...request, validators })
  } catch (error) {
    throw originFault(error)
  }

  const { status, headers } = response
  if (status === 304 && validators !== undefined) {
    await discard(response)
    return { unchanged: true, bytes: 0 }
  }
  if (status !== 200) {
    await discard(response)
    throw httpFailure(status, parseRetryAfter(headers.retryAfter))
  }
  if (headers.contentLength !== undefined && headers.contentLength > settings.maxImageBytes) {
    response.body.destroy()
    throw new DownloadError('too_large', `Content-Length ${headers.contentLength} is over ${settings.maxImageBytes} bytes`)
  }

  let image: GuardedImage
  try {
    image = await guardImageBody(response.body, {
      maxBytes: settings.maxImageBytes,
      expectedBytes: headers.contentLength,
      minBytesPerSecond: settings.minBodyBytesPerSecond,
    })
  } catch (error) {
    throw originFault(error)
  }
  try {
    await ports.sink.put(
      { key, body: image.body, contentType: image.contentType, validators: originValidators(headers.etag, headers.lastModified) },
      signal,
    )
  } catch (error) {
    image.body.destroy()
    // A body that broke mid-stream fails the upload too; blame the side that actually failed.
    const broken = image.failure()
    throw broken === undefined ? storeFailure(error) : originFault(broken)
  }
  return { unchanged: false, bytes: image.bytesRead() }
}

async function discard(response: OriginResponse): Promise<void> {
  await response.discard().catch(() => undefined)
}

function failed(code: string, failure: DownloadError, attempts: number, message = failure.message): DownloadFailure {
  return {
    code,
    status: failure.reason === 'not_found' ? 'not_found' : 'error',
    reason: failure.reason,
    attempts,
    ...(failure.httpStatus === undefined ? {} : { httpStatus: failure.httpStatus }),
    message: clip(message, MAX_MESSAGE_CHARACTERS),
  }
}
