import { setTimeout as sleep } from 'node:timers/promises'
import pLimit, { type LimitFunction } from 'p-limit'
import { requestAdmissions } from './admission.ts'
import { attemptOnce, type AttemptRun, type Fetched } from './attempt.ts'
import { storeStepFailure } from './blame.ts'
import { startDeadline, type Deadline } from './deadline.ts'
import { deadlineFailure, originFailure } from './failures.ts'
import { imageUrl, objectKey } from './keys.ts'
import { codePace, type CodePace } from './pace.ts'
import type { ImageSource, ObjectSink, OriginValidators } from './ports.ts'
import { codeFailure, reportOf, type DownloadFailure, type DownloadObserver, type DownloadReport, type Outcome } from './report.ts'
import type { DownloadPlan } from './request.ts'
import { retryDecision } from './retry.ts'
import type { EngineSettings } from './settings.ts'
import { listedKeysWithoutObject, storedValidators } from './storedCopy.ts'
import { storeReadBody } from './upload.ts'

export type { EngineSettings } from './settings.ts'

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

interface Run extends AttemptRun {
  readonly plan: DownloadPlan
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
  readonly pace: CodePace
}

/** What a code's origin slot ends with, once its attempts are over. */
type Attempted = { readonly fetched: Fetched; readonly attempts: number }

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
  const run = startRun(plan, settings, ports, controls)
  const total = plan.codes.length
  let done = 0
  const observed = async (code: string): Promise<Outcome> => {
    let slotAt: number | undefined
    const outcome = await downloadCode(code, run, () => (slotAt = now()))
    done += 1
    const ms = slotAt === undefined ? 0 : Math.round(now() - slotAt)
    if (slotAt !== undefined) run.pace.record(outcome, ms)
    controls.observer?.codeFinished(outcome.status === 'ok' ? { code, ...outcome, ms } : { ...outcome, ms })
    controls.observer?.progress(done, total)
    return outcome
  }
  let outcomes: Outcome[]
  try {
    outcomes = await Promise.all(plan.codes.map(observed))
  } finally {
    run.deadline.dispose()
  }
  return reportOf(plan, outcomes, Math.round(now() - startedAt))
}

/** What one run shares between its codes. Limiters per run: the caps are per invocation, and shared limiters would couple runs. */
function startRun(plan: DownloadPlan, settings: EngineSettings, ports: DownloadPorts, controls: RunControls): Run {
  const deadline = startDeadline(controls.remainingMs, settings.deadlineReserveMs, controls.signal)
  return {
    plan,
    settings,
    ports,
    deadline,
    originSlots: pLimit(plan.concurrency),
    // Look-ups need not outrun the origin: a burst of them at the start only takes CPU from the
    // first GETs (at C=3 it cost 4 % of the run).
    lookupSlots: pLimit(Math.min(settings.storeConcurrency, plan.concurrency)),
    uploadSlots: pLimit(settings.storeConcurrency),
    keysWithoutObject: plan.force ? Promise.resolve(new Set()) : listedKeysWithoutObject(plan, ports.sink, deadline.signal),
    admissions: requestAdmissions(settings.memoryBudgetBytes, settings.maxStreamedBytes),
    pace: codePace(),
  }
}

/** One code: the stored copy looked up, the image fetched in an origin slot, the body stored. */
async function downloadCode(code: string, run: Run, slotTaken: () => void): Promise<Outcome> {
  const { plan, ports, deadline } = run
  const { signal } = deadline
  const key = objectKey(plan.prefix, code)
  let validators: OriginValidators | undefined
  if (!plan.force) {
    try {
      validators = await storedValidators(key, run.keysWithoutObject, run.lookupSlots, ports.sink, signal)
    } catch (error) {
      return codeFailure(code, storeStepFailure(error, signal), 0)
    }
  }
  const attempted = await run.originSlots(async (): Promise<DownloadFailure | Attempted> => {
    slotTaken()
    if (!deadline.allowsStart(run.pace.typicalMs())) return codeFailure(code, deadlineFailure(), 0)
    return fetchWithRetries(code, key, validators, run)
  })
  if ('status' in attempted) return attempted
  const { fetched, attempts } = attempted
  if (fetched.kind === 'unchanged') return { status: 'ok', unchanged: true, bytes: 0 }
  if (fetched.kind === 'streamed') return { status: 'ok', unchanged: false, bytes: fetched.bytes }
  const failure = await storeReadBody(run.uploadSlots, ports.sink, key, fetched, signal, run.settings.deadlineReserveMs)
  return failure === undefined ? { status: 'ok', unchanged: false, bytes: fetched.body.length } : codeFailure(code, failure, attempts)
}

/** The attempts at one code, in the slot it holds; ends with what was fetched, or the code's failure. */
async function fetchWithRetries(code: string, key: string, validators: OriginValidators | undefined, run: Run): Promise<DownloadFailure | Attempted> {
  const { deadline } = run
  const url = imageUrl(run.plan.baseUrl, code)
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { fetched: await attemptOnce(url, key, validators, run), attempts: attempt }
    } catch (error) {
      if (deadline.signal.aborted) return codeFailure(code, deadlineFailure(), attempt)
      const failure = originFailure(error)
      const next = retryDecision(failure, attempt, run.settings.retry)
      if ('finalMessage' in next) return codeFailure(code, failure, attempt, next.finalMessage)
      // Too little time for another attempt: the code failed for what the last attempt met.
      if (!deadline.allowsStart(next.delayMs + run.pace.typicalMs())) return codeFailure(code, failure, attempt)
      try {
        await sleep(next.delayMs, undefined, { signal: deadline.signal })
      } catch {
        return codeFailure(code, deadlineFailure(), attempt)
      }
    }
  }
}
