import type { DownloadStatus } from '../lib/download/report.ts'
import { ImgpullError } from '../lib/errors.ts'
import type { JobMessage } from '../lib/jobs/messages.ts'
import { JobNotFound, ObjectTooLarge, ObjectTooShort } from '../lib/jobs/errors.ts'
import type { JobRecord, JobState, JobStatus, NewJob, PartOutcome } from '../lib/jobs/job.ts'
import type { JobObjects, JobQueue, JobStore } from '../lib/jobs/ports.ts'

/**
 * Every write the in-memory jobs ports make: a crash can be injected just before or just after
 * each. Recording a part is one write, as the DynamoDB store's transaction is: the part's item and
 * its job's counters together. A queue send is one write per message.
 */
export type WritePoint = 'store.create' | 'store.fannedOut' | 'store.lease' | 'store.part' | 'store.finish' | 'queue.send' | 'objects.write'

/** One write as it happened: its point and, for the log, what it wrote. */
export interface Write {
  readonly point: WritePoint
  readonly subject: string
}

/** What a function dies of when a crash is injected: nothing after it runs, nothing before it is undone. */
export class InjectedCrash extends Error {
  override readonly name = 'InjectedCrash'
}

/**
 * Where the next crash happens, shared by the in-memory ports of one test. A crash fires once,
 * like a function dying: whatever retries it (a redelivery, a request sent again) runs unharmed.
 */
export interface Crashes {
  /** Crashes just after the `ordinal`-th write (from 1) of any kind: between it and the next. */
  afterWrite(ordinal: number): void
  /** Crashes at the `nth` write at `point` since the switch was made (from 1), just before it is made or just after. */
  at(point: WritePoint, when: 'before' | 'after', nth?: number): void
  /** Whether an injected crash is waiting to fire. */
  readonly armed: boolean
  /** Every write made so far, in order: the crash points a flow has. */
  readonly writes: readonly Write[]
  /** Called by the ports around each write; throws InjectedCrash where one is armed. */
  write(point: WritePoint, subject: string, make: () => void): void
}

/** A crash switch with nothing armed. */
export function crashes(): Crashes {
  const writes: Write[] = []
  const seen = new Map<WritePoint, number>()
  let trigger: ((point: WritePoint, when: 'before' | 'after', nthAtPoint: number) => boolean) | undefined
  const fire = (point: WritePoint, when: 'before' | 'after', nthAtPoint: number, subject: string) => {
    if (trigger?.(point, when, nthAtPoint) !== true) return
    trigger = undefined
    throw new InjectedCrash(`crashed ${when} ${point} (${subject})`)
  }
  return {
    afterWrite(ordinal) {
      trigger = (_point, when) => when === 'after' && writes.length === ordinal
    },
    at(point, when, nth = 1) {
      trigger = (reached, moment, nthAtPoint) => reached === point && moment === when && nthAtPoint === nth
    },
    get armed() {
      return trigger !== undefined
    },
    writes,
    write(point, subject, make) {
      const nthAtPoint = (seen.get(point) ?? 0) + 1
      seen.set(point, nthAtPoint)
      fire(point, 'before', nthAtPoint, subject)
      make()
      writes.push({ point, subject })
      fire(point, 'after', nthAtPoint, subject)
    },
  }
}

interface JobItem {
  readonly job: NewJob
  chunksSent: number
  fanOutAt: string
  chunksDone: number
  counter: Record<DownloadStatus, number>
  unchanged: number
  bytes: number
  updatedAt: string
  startedAt?: string
  finishedAt?: string
  reportKey?: string
}

/** A JobStore in memory, with the crash points of its writes. */
export interface MemoryJobStore extends JobStore {
  /** The recorded parts of a job, as `chunk.part`: what the DynamoDB store keeps as part items. */
  recordedParts(jobId: string): string[]
}

// Lets concurrent callers interleave between a read and a write, as two requests to a database would.
const otherCallersRun = () => new Promise<void>((resolve) => setImmediate(resolve))
const partId = (chunk: number, part: number) => `${chunk}.${part}`

/**
 * The DynamoDB job store's behaviour, in memory: a job is created once; a part's first recorded
 * outcome stands and is counted into its job in the same write, once; a part of a chunk the plan
 * does not have changes nothing; a job is finished once; failures come back a part at a time in
 * chunk order. Jobs never expire.
 */
export function memoryJobStore(crash: Crashes = crashes()): MemoryJobStore {
  const jobs = new Map<string, JobItem>()
  const parts = new Map<string, Map<string, PartOutcome>>()
  const leases = new Map<string, string>()

  const recordOf = (item: JobItem): JobRecord => {
    const state: JobState = item.finishedAt !== undefined ? 'done' : item.startedAt !== undefined ? 'running' : 'queued'
    const { jobId, prefix, total, chunks: chunkCount, createdAt, baseUrl, concurrency, force, planKey, planBytes, maxOriginRequests } = item.job
    return {
      jobId,
      state,
      prefix,
      total,
      chunks: chunkCount,
      chunksDone: item.chunksDone,
      counter: { ...item.counter },
      unchanged: item.unchanged,
      bytes: item.bytes,
      createdAt,
      updatedAt: item.updatedAt,
      finishedAt: item.finishedAt ?? null,
      reportKey: item.reportKey ?? null,
      baseUrl,
      concurrency,
      force,
      planKey,
      planBytes,
      maxOriginRequests,
      chunksSent: item.chunksSent,
      fanOutAt: item.fanOutAt,
    }
  }
  const statusOf = (item: JobItem): JobStatus => {
    const { jobId, state, prefix, total, chunks: chunkCount, chunksDone, counter, unchanged, bytes, createdAt, updatedAt, finishedAt, reportKey } = recordOf(item)
    return { jobId, state, prefix, total, chunks: chunkCount, chunksDone, counter, unchanged, bytes, createdAt, updatedAt, finishedAt, reportKey }
  }
  const partsOf = (jobId: string) => {
    let recorded = parts.get(jobId)
    if (recorded === undefined) {
      recorded = new Map()
      parts.set(jobId, recorded)
    }
    return recorded
  }

  return {
    async create(job) {
      if (jobs.has(job.jobId)) return false
      crash.write('store.create', job.jobId, () => {
        jobs.set(job.jobId, { job: { ...job }, chunksSent: 0, fanOutAt: job.createdAt, chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 }, unchanged: 0, bytes: 0, updatedAt: job.createdAt })
      })
      return true
    },

    async get(jobId) {
      const item = jobs.get(jobId)
      return item === undefined ? undefined : statusOf(item)
    },

    async record(jobId) {
      const item = jobs.get(jobId)
      return item === undefined ? undefined : recordOf(item)
    },

    async recent(limit) {
      return [...jobs.values()]
        .sort((a, b) => (a.job.createdAt < b.job.createdAt ? 1 : a.job.createdAt > b.job.createdAt ? -1 : 0))
        .slice(0, limit)
        .map(statusOf)
    },

    async fannedOut(jobId, chunksSent, at) {
      const item = jobs.get(jobId)
      if (item === undefined) throw new JobNotFound(`no job ${jobId}`)
      // As the DynamoDB store's conditional update: a run behind the noted progress changes nothing, its time included.
      if (chunksSent <= item.chunksSent) return
      crash.write('store.fannedOut', `${jobId}#${chunksSent}`, () => {
        item.chunksSent = chunksSent
        item.fanOutAt = at
      })
    },

    async partOf(jobId, chunk, part) {
      const recorded = parts.get(jobId)?.get(partId(chunk, part))
      return recorded === undefined ? undefined : structuredClone(recorded)
    },

    async leasePart(jobId, chunk, part, until) {
      crash.write('store.lease', `${jobId}#${partId(chunk, part)}`, () => leases.set(`${jobId}#${partId(chunk, part)}`, until))
    },

    async recordPart(jobId, outcome, at, { unleasedAt } = {}) {
      await otherCallersRun()
      const item = jobs.get(jobId)
      if (item === undefined) throw new JobNotFound(`no job ${jobId} to count chunk ${outcome.chunk} into`)
      if (outcome.chunk >= item.job.chunks) return 'not in plan'
      const recorded = partsOf(jobId)
      const id = partId(outcome.chunk, outcome.part)
      if (recorded.has(id)) return 'counted before'
      const leasedUntil = leases.get(`${jobId}#${id}`)
      if (unleasedAt !== undefined && leasedUntil !== undefined && leasedUntil > unleasedAt) return 'leased'
      crash.write('store.part', `${jobId}#${id}`, () => {
        recorded.set(id, structuredClone(outcome))
        if (outcome.rest.length === 0) item.chunksDone += 1
        for (const status of ['ok', 'not_found', 'error'] as const) item.counter[status] += outcome.counter[status]
        item.unchanged += outcome.unchanged
        item.bytes += outcome.bytes
        item.updatedAt = at
        item.startedAt ??= at
      })
      return 'counted'
    },

    async *failuresOf(jobId) {
      const inOrder = [...(parts.get(jobId) ?? new Map<string, PartOutcome>()).values()].sort((a, b) => a.chunk - b.chunk || a.part - b.part)
      for (const outcome of inOrder) yield structuredClone(outcome.failures)
    },

    async finish(jobId, reportKey, at) {
      const item = jobs.get(jobId)
      if (item === undefined) throw new JobNotFound(`no job ${jobId} to finish`)
      crash.write('store.finish', jobId, () => {
        item.finishedAt ??= at
        item.reportKey ??= reportKey
        item.updatedAt = at
      })
      return statusOf(item)
    },

    recordedParts(jobId) {
      return [...(parts.get(jobId)?.values() ?? [])].sort((a, b) => a.chunk - b.chunk || a.part - b.part).map(({ chunk, part }) => partId(chunk, part))
    },
  }
}

/** What the queue's consumer does with one message body; a throw leaves the message to be delivered again. */
export type MessageHandler = (body: string) => Promise<unknown>

/** A JobQueue in memory, delivering its messages as SQS does: at least once, then to dead letters. */
export interface MemoryJobQueue extends JobQueue {
  /** Every body sent, in the order sent (copies of a message sent twice included). */
  readonly sent: readonly string[]
  /** Bodies sent and not yet deleted, delayed ones last. */
  readonly waiting: readonly string[]
  /**
   * Delivers every waiting message to `handle`, each again while it throws, up to
   * `maxReceiveCount` deliveries; then to `deadLetter` (and again while that throws, as many
   * times). A delayed message waits until no other is left. Resolves with the errors the
   * deliveries threw, in order; stops after `maxDeliveries` messages, as a test's bound.
   */
  deliver(handle: MessageHandler, deadLetter: MessageHandler, maxReceiveCount?: number, maxDeliveries?: number): Promise<unknown[]>
  /** Sends a body as another producer would (a copy of a message, a poison message). */
  push(body: string): void
}

export interface MemoryQueueOptions {
  /** Why a message cannot be sent, or undefined when it can: a send with such a message fails whole. */
  readonly refuse?: (message: JobMessage) => string | undefined
  readonly crash?: Crashes
}

/** The error of a send the in-memory queue refuses. */
export class QueueRefused extends Error {
  override readonly name = 'QueueRefused'
}

/** A queue in memory whose send fails when `refuse` names one of its messages. */
export function memoryJobQueue({ refuse, crash = crashes() }: MemoryQueueOptions = {}): MemoryJobQueue {
  const sent: string[] = []
  const ready: string[] = []
  const delayed: string[] = []
  return {
    sent,
    get waiting() {
      return [...ready, ...delayed]
    },
    async send(messages, delaySeconds = 0) {
      for (const message of messages) {
        const refused = refuse?.(message)
        if (refused !== undefined) throw new QueueRefused(refused)
      }
      for (const message of messages) {
        const body = JSON.stringify(message)
        crash.write('queue.send', `${message.jobId}#${message.kind === 'chunk' ? `${message.chunk}.${message.part}` : message.kind}`, () => {
          sent.push(body)
          ;(delaySeconds > 0 ? delayed : ready).push(body)
        })
      }
    },
    push(body) {
      sent.push(body)
      ready.push(body)
    },
    async deliver(handle, deadLetter, maxReceiveCount = 3, maxDeliveries = 10_000) {
      const errors: unknown[] = []
      const attempt = async (handler: MessageHandler, body: string): Promise<boolean> => {
        for (let receive = 1; receive <= maxReceiveCount; receive += 1) {
          try {
            await handler(body)
            return true
          } catch (error) {
            errors.push(error)
          }
        }
        return false
      }
      for (let delivered = 0; delivered < maxDeliveries; delivered += 1) {
        if (ready.length === 0) ready.push(...delayed.splice(0))
        const body = ready.shift()
        if (body === undefined) break
        if (!(await attempt(handle, body))) await attempt(deadLetter, body)
      }
      return errors
    },
  }
}

/** What a write the test chose to fail throws: S3 refused it, after its retries; nothing is stored. */
export class InjectedWriteFailure extends ImgpullError {}

/** JobObjects in memory, with the crash points of its writes, and writes that can be made to fail. */
export interface MemoryJobObjects extends JobObjects {
  readonly objects: Map<string, { readonly text: string; readonly contentType: string }>
  /**
   * Fails the next `times` writes of `key` (writeText or writeLines) as S3 fails one it keeps
   * refusing: the lines are read, then the write rejects with InjectedWriteFailure and stores
   * nothing, not even over an object already there. Later writes succeed.
   */
  failWrites(key: string, times?: number): void
}

/** A bucket of text objects in memory, holding `initial` to begin with. */
export function memoryJobObjects(initial: Record<string, string> = {}, crash: Crashes = crashes()): MemoryJobObjects {
  const objects = new Map(Object.entries(initial).map(([key, text]) => [key, { text, contentType: 'text/plain' }]))
  const failures = new Map<string, number>()
  // Each object's bytes, made on its first ranged read.
  const encoded = new WeakMap<object, Buffer>()

  const store = (key: string, text: string, contentType: string) => {
    const left = failures.get(key) ?? 0
    if (left > 0) {
      failures.set(key, left - 1)
      throw new InjectedWriteFailure(`writing ${key} failed`)
    }
    crash.write('objects.write', key, () => objects.set(key, { text, contentType }))
  }

  return {
    objects,
    async readText(key, maxBytes) {
      const object = objects.get(key)
      if (object === undefined) return undefined
      const bytes = Buffer.byteLength(object.text)
      if (bytes > maxBytes) throw new ObjectTooLarge(`${key} is ${bytes} bytes`)
      return object.text
    },
    async readRange(key, start, end) {
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
        throw new RangeError(`a byte range needs 0 <= start < end, both integers; got [${start}, ${end})`)
      }
      const object = objects.get(key)
      if (object === undefined) return undefined
      let bytes = encoded.get(object)
      if (bytes === undefined) {
        bytes = Buffer.from(object.text, 'utf8')
        encoded.set(object, bytes)
      }
      if (bytes.length < end) throw new ObjectTooShort(`${key} is ${bytes.length} bytes, ending before byte ${end}`)
      return bytes.subarray(start, end).toString('utf8')
    },
    async writeText(key, text, contentType) {
      store(key, text, contentType)
    },
    async writeLines(key, lines, contentType) {
      const written: string[] = []
      for await (const line of lines) written.push(`${line}\n`)
      const text = written.join('')
      store(key, text, contentType)
      return { bytes: Buffer.byteLength(text) }
    },
    failWrites(key, times = 1) {
      failures.set(key, times)
    },
  }
}
