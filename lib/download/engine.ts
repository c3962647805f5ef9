import { setImmediate, setTimeout as sleep } from 'node:timers/promises'
import pLimit, { type LimitFunction } from 'p-limit'
import { Readable } from 'node:stream'
import { byteBudget, type Admission, type ByteBudget } from './budget.ts'
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
  /**
   * The most body bytes held in memory at once: bodies read and waiting for their upload, and
   * parts of streamed ones. When they would not fit, the next origin request waits.
   */
  readonly memoryBudgetBytes: number
  /**
   * Bodies up to this size are read whole, their origin slot freed, and uploaded in one request;
   * larger ones stream to the sink while they keep their slot.
   */
  readonly maxBufferedBytes: number
  /** What the sink holds of a streamed body at once. */
  readonly maxStreamedBytes: number
  /** Look-ups of stored copies, and uploads, in flight at once: two pools of this size, apart from the origin's. */
  readonly storeConcurrency: number
}

/** The systems a run reads from and writes to. */
export interface DownloadPorts {
  readonly source: ImageSource
  readonly sink: ObjectSink
}

/** What the caller of one run controls: when it must stop, who watches, and (in tests) its clock. */
export interface RunControls {
  /** Aborts the run from outside; what is cut short is reported as `deadline`. */
  readonly signal?: AbortSignal
  /** Time left before the invocation is stopped (Lambda's getRemainingTimeInMillis); none means no deadline. */
  readonly remainingMs?: () => number
  readonly observer?: DownloadObserver
  readonly now?: () => number
}

// What a request is admitted with before any body of the run has told how large they are.
const FIRST_ESTIMATE_BYTES = 1024 * 1024

interface Run {
  readonly plan: DownloadPlan
  readonly settings: EngineSettings
  readonly ports: DownloadPorts
  readonly deadline: Deadline
  /** The origin's slots: requests in flight to the origin, never more than plan.concurrency. */
  readonly originSlots: LimitFunction
  /** S3 look-ups of stored copies, apart from the origin's slots, never more than it has. */
  readonly lookupSlots: LimitFunction
  /** Uploads of bodies read whole, apart from the origin's slots. */
  readonly uploadSlots: LimitFunction
  /** Keys the sink's listings found without an object, which need no look-up. */
  readonly keysWithoutObject: Promise<ReadonlySet<string>>
  readonly budget: ByteBudget
  /** What the next request is admitted with: the most any body of this run has held so far. */
  estimateBytes(): number
  noteNeed(bytes: number): void
  /** The mean time a finished code took so far in this run: what starting one more is expected to cost. */
  typicalMs(): number
}

/** A body read whole within its origin slot, with the bytes it holds, to be uploaded outside it. */
interface ReadBody {
  readonly kind: 'read'
  readonly body: Buffer
  readonly contentType: string
  readonly validators: OriginValidators
  readonly admission: Admission
}

/** How an attempt ended well: unchanged at the origin, streamed to the sink, or read whole. */
type Fetched = { readonly kind: 'unchanged' } | { readonly kind: 'streamed'; readonly bytes: number } | ReadBody

/** What a code's origin slot ends with, once its attempts are over. */
type Attempted = { readonly fetched: Fetched; readonly attempts: number }

// A failure message quotes what an origin sent (a redirect target, a host name); this long at most.
const MAX_MESSAGE_CHARACTERS = 300

/**
 * Downloads every code of the plan from the source into the sink and counts each code under
 * exactly one status. At most `plan.concurrency` requests are in flight to the origin; a code holds
 * its slot for its GET and retries, and gives it up once the body is read (S3 look-ups and uploads
 * run in pools of their own), or, for a body larger than one part, once it has streamed into S3.
 * Body bytes held at once stay within the memory budget. Never rejects for a single code; stops
 * starting and aborts downloads when time runs out.
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
  let largestNeed = 0
  // Limiters per run: the caps are per invocation, and shared limiters would couple runs.
  const run: Run = {
    plan,
    settings,
    ports,
    deadline,
    originSlots: pLimit(plan.concurrency),
    // Look-ups need not outrun the origin: a burst of them at the start only takes CPU from the
    // first GETs (at C=3 it cost 4 % of the batch).
    lookupSlots: pLimit(Math.min(settings.storeConcurrency, plan.concurrency)),
    uploadSlots: pLimit(settings.storeConcurrency),
    // A failed listing only means every key is looked up, as without one.
    keysWithoutObject:
      plan.force || ports.sink.keysWithoutObject === undefined
        ? Promise.resolve(new Set())
        : ports.sink.keysWithoutObject(plan.codes.map((code) => objectKey(plan.prefix, code)), deadline.signal).catch(() => new Set()),
    budget: byteBudget(settings.memoryBudgetBytes, settings.maxStreamedBytes),
    estimateBytes: () => (largestNeed === 0 ? FIRST_ESTIMATE_BYTES : largestNeed),
    noteNeed: (bytes) => {
      largestNeed = Math.max(largestNeed, bytes)
    },
    typicalMs: () => (finished === 0 ? 0 : finishedMs / finished),
  }

  const total = plan.codes.length
  let done = 0
  const observed = async (code: string): Promise<Outcome> => {
    let slotAt: number | undefined
    const outcome = await downloadCode(code, run, () => (slotAt = now()))
    done += 1
    const ms = slotAt === undefined ? 0 : Math.round(now() - slotAt)
    // Codes cut short by the deadline say nothing about how long a download takes.
    if (slotAt !== undefined && (outcome.status === 'ok' || outcome.reason !== 'deadline')) {
      finishedMs += ms
      finished += 1
    }
    controls.observer?.codeFinished(outcome.status === 'ok' ? { code, ...outcome, ms } : { ...outcome, ms })
    controls.observer?.progress(done, total)
    return outcome
  }
  let outcomes: Outcome[]
  try {
    outcomes = await Promise.all(plan.codes.map(observed))
  } finally {
    deadline.dispose()
  }

  return reportOf(plan, outcomes, Math.round(now() - startedAt))
}

/** One code: the stored copy looked up, the image fetched in an origin slot, the body stored. */
async function downloadCode(code: string, run: Run, slotTaken: () => void): Promise<Outcome> {
  const { plan, ports, deadline } = run
  const { signal } = deadline
  const key = objectKey(plan.prefix, code)

  let validators: OriginValidators | undefined
  if (!plan.force) {
    try {
      const withoutObject = await run.keysWithoutObject
      validators = withoutObject.has(key) ? undefined : await run.lookupSlots(() => {
        signal.throwIfAborted()
        return ports.sink.validatorsOf(key, signal)
      })
    } catch (error) {
      return failed(code, signal.aborted ? deadlineFailure() : storeFailure(error), 0)
    }
  }

  const attempted = await run.originSlots(async (): Promise<DownloadFailure | Attempted> => {
    slotTaken()
    if (!deadline.allowsStart(run.typicalMs())) return failed(code, deadlineFailure(), 0)
    return fetchWithRetries(code, key, validators, run)
  })
  if ('status' in attempted) return attempted
  const { fetched: result, attempts } = attempted
  if (result.kind === 'unchanged') return { status: 'ok', unchanged: true, bytes: 0 }
  if (result.kind === 'streamed') return { status: 'ok', unchanged: false, bytes: result.bytes }

  try {
    await run.uploadSlots(() => {
      signal.throwIfAborted()
      const { body, contentType, validators: served } = result
      return ports.sink.put({ key, body, contentType, validators: served }, signal)
    })
    return { status: 'ok', unchanged: false, bytes: result.body.length }
  } catch (error) {
    return failed(code, signal.aborted ? deadlineFailure() : storeFailure(error), attempts)
  } finally {
    result.admission.release()
  }
}

/** The attempts at one code, in the slot it holds; ends with what was fetched, or the code's failure. */
async function fetchWithRetries(
  code: string,
  key: string,
  validators: OriginValidators | undefined,
  run: Run,
): Promise<DownloadFailure | Attempted> {
  const { settings, deadline } = run
  const { signal } = deadline
  const policy = settings.retry
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { fetched: await attemptOnce(imageUrl(run.plan.baseUrl, code), key, validators, run), attempts: attempt }
    } catch (error) {
      if (signal.aborted) return failed(code, deadlineFailure(), attempt)
      const failure = error instanceof DownloadError ? error : originFailure(error)
      if (!failure.retryable || attempt >= policy.maxAttempts) return failed(code, failure, attempt)
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > policy.maxRetryAfterMs) {
        const waitS = Math.ceil(failure.retryAfterMs / 1000)
        return failed(code, failure, attempt, `${failure.message}, Retry-After ${waitS} s is beyond the wait allowed`)
      }
      const delayMs = failure.retryAfterMs ?? backoffDelayMs(attempt, policy)
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

/** The clock of one attempt: it runs while the origin is waited on, and stops for our own waits. */
interface AttemptClock {
  /** Aborts when the attempt has taken its time. */
  readonly signal: AbortSignal
  /** Runs `wait` with the clock stopped, and starts it again with the time it had left. */
  paused<T>(wait: () => Promise<T>): Promise<T>
  stop(): void
}

function attemptClock(timeoutMs: number): AttemptClock {
  const expiry = new AbortController()
  let leftMs = timeoutMs
  let startedAt = performance.now()
  let timer: NodeJS.Timeout | undefined = setTimeout(() => expiry.abort(), leftMs)
  const stop = () => {
    if (timer === undefined) return
    clearTimeout(timer)
    timer = undefined
    leftMs -= performance.now() - startedAt
  }
  return {
    signal: expiry.signal,
    async paused(wait) {
      stop()
      try {
        return await wait()
      } finally {
        if (!expiry.signal.aborted) {
          startedAt = performance.now()
          timer = setTimeout(() => expiry.abort(), Math.max(0, leftMs))
        }
      }
    },
    stop,
  }
}

/**
 * One attempt, in the code's origin slot: admitted against the memory budget, a (conditional)
 * GET, checks on the answer, and the body read whole or, past one part, streamed into the sink.
 * Its clock (attemptTimeoutMs) runs from the request to the last byte of a body read whole, or to
 * the start of a streamed one, and stops while the attempt waits for memory.
 */
async function attemptOnce(url: string, key: string, validators: OriginValidators | undefined, run: Run): Promise<Fetched> {
  const { settings, ports, deadline: { signal } } = run
  const partBytes = settings.maxBufferedBytes
  const streamedBytes = settings.maxStreamedBytes
  // Admitted before the request is sent, so that a full budget holds new requests back.
  const admission = await run.budget.admit(run.estimateBytes(), signal)
  const clock = attemptClock(settings.attemptTimeoutMs)
  // An origin cut off by the attempt's own clock failed by being too slow, whatever undici says;
  // any other origin error is passed on as the DownloadError it is or becomes.
  const originFault = (error: unknown) =>
    clock.signal.aborted && !signal.aborted
      ? new DownloadError('timeout', `origin: attempt took longer than ${settings.attemptTimeoutMs} ms`, { retryable: true, cause: error })
      : originFailure(error)
  // A body read whole hands its admission on to its upload; on every other way out it is given back here.
  let handedOn = false
  try {
    let response: OriginResponse
    try {
      const request = { url, signal: AbortSignal.any([signal, clock.signal]) }
      response = await ports.source.get(validators === undefined ? request : { ...request, validators })
    } catch (error) {
      throw originFault(error)
    }

    const { status, headers } = response
    if (status === 304 && validators !== undefined) {
      await discard(response)
      return { kind: 'unchanged' }
    }
    if (status !== 200) {
      await discard(response)
      throw httpFailure(status, parseRetryAfter(headers.retryAfter))
    }
    const { contentLength } = headers
    if (contentLength !== undefined && contentLength > settings.maxImageBytes) {
      response.body.destroy()
      throw new DownloadError('too_large', `Content-Length ${contentLength} is over ${settings.maxImageBytes} bytes`)
    }

    // Bytes are settled before they are read: a body of known length within one part as it is;
    // a larger one as the parts a stream holds; one of unknown length as a part, until it passes one.
    const settle = async (bytes: number) => {
      try {
        await clock.paused(() => admission.settle(bytes, signal))
      } catch (error) {
        response.body.destroy()
        throw error
      }
    }
    await settle(contentLength === undefined ? partBytes : contentLength <= partBytes ? contentLength : streamedBytes)

    let image: GuardedImage
    try {
      image = await guardImageBody(response.body, {
        maxBytes: settings.maxImageBytes,
        expectedBytes: contentLength,
        minBytesPerSecond: settings.minBodyBytesPerSecond,
      })
    } catch (error) {
      throw originFault(error)
    }
    const served = originValidators(headers.etag, headers.lastModified)

    // Read up to one part; a body that ends within it is handed on whole, the slot freed.
    const chunks = image.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    const head: Buffer[] = []
    let headBytes = 0
    let ended = false
    try {
      while (headBytes <= partBytes) {
        const next = await chunks.next()
        if (next.done === true) {
          ended = true
          break
        }
        head.push(next.value)
        headBytes += next.value.length
      }
    } catch (error) {
      throw originFault(image.failure() ?? error)
    }
    if (ended) {
      clock.stop()
      // undici hands the connection back to its pool a tick after the body ends (the client's
      // 'drain'); a request sent in this slot before that would open a connection of its own.
      await setImmediate()
      const body = Buffer.concat(head, headBytes)
      await admission.settle(body.length, signal)
      run.noteNeed(body.length)
      handedOn = true
      return { kind: 'read', body, contentType: image.contentType, validators: served, admission }
    }

    // Larger than a part: the rest streams into the sink, in this slot. From here on S3 sets the
    // pace as much as the origin, so the attempt's clock stops; the body's own timeout and rate
    // still hold the origin to account, and the deadline the whole.
    await settle(streamedBytes)
    clock.stop()
    run.noteNeed(streamedBytes)
    async function* wholeBody(): AsyncGenerator<Buffer> {
      // Let go of each chunk read so far as it is passed on, rather than holding the part to the end.
      for (let chunk = head.shift(); chunk !== undefined; chunk = head.shift()) yield chunk
      for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) yield next.value
    }
    const body = Readable.from(wholeBody(), { objectMode: false })
    try {
      await ports.sink.put({ key, body, contentType: image.contentType, validators: served }, signal)
    } catch (error) {
      body.destroy()
      image.body.destroy()
      // A body that broke mid-stream fails the upload too; blame the side that actually failed.
      const broken = image.failure()
      throw broken === undefined ? storeFailure(error) : originFailure(broken)
    }
    return { kind: 'streamed', bytes: image.bytesRead() }
  } finally {
    clock.stop()
    if (!handedOn) admission.release()
  }
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
