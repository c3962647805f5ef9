import type { DownloadStatus } from '../lib/download/report.ts'
import type { ChunkMessage } from '../lib/jobs/chunks.ts'
import { ImgpullError } from '../lib/errors.ts'
import { JobNotFound, ObjectTooLarge, ObjectTooShort } from '../lib/jobs/errors.ts'
import type { ChunkOutcome, JobState, JobStatus, NewJob } from '../lib/jobs/job.ts'
import type { ChunkQueue, JobObjects, JobStore, Unsent } from '../lib/jobs/ports.ts'

/**
 * Every write the in-memory jobs ports make: a crash can be injected just before or just after
 * each. `recordChunk` makes two, as the DynamoDB store does: the chunk's outcome, written only if
 * the chunk has none (`store.chunkItem`), then the job's counters, added only if the chunk is not
 * counted yet (`store.chunkCount`). A queue send is one write per message.
 */
export type WritePoint = 'store.create' | 'store.markRunning' | 'store.chunkItem' | 'store.chunkCount' | 'store.finish' | 'queue.send' | 'objects.write'

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
  readonly counted: Set<number>
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
  /** The chunks whose outcomes are recorded, per job: what the DynamoDB store keeps as chunk items. */
  recordedChunks(jobId: string): number[]
}

// Lets concurrent callers interleave between two writes, as two requests to a database would.
const otherCallersRun = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * The DynamoDB job store's behaviour, in memory: a job is created once; a chunk's first recorded
 * outcome stands and is counted into its job once, by two writes a crash can fall between; a job
 * is finished once; failures come back a chunk at a time in chunk order. Jobs never expire.
 */
export function memoryJobStore(crash: Crashes = crashes()): MemoryJobStore {
  const jobs = new Map<string, JobItem>()
  const chunks = new Map<string, Map<number, ChunkOutcome>>()

  const statusOf = (item: JobItem): JobStatus => {
    const state: JobState = item.finishedAt !== undefined ? 'done' : item.startedAt !== undefined ? 'running' : 'queued'
    const { jobId, prefix, total, chunks: chunkCount, createdAt } = item.job
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
    }
  }
  const chunksOf = (jobId: string) => {
    let recorded = chunks.get(jobId)
    if (recorded === undefined) {
      recorded = new Map()
      chunks.set(jobId, recorded)
    }
    return recorded
  }

  return {
    async create(job) {
      if (jobs.has(job.jobId)) return false
      crash.write('store.create', job.jobId, () => {
        jobs.set(job.jobId, { job: { ...job }, counted: new Set(), chunksDone: 0, counter: { ok: 0, not_found: 0, error: 0 }, unchanged: 0, bytes: 0, updatedAt: job.createdAt })
      })
      return true
    },

    async get(jobId) {
      const item = jobs.get(jobId)
      return item === undefined ? undefined : statusOf(item)
    },

    async recent(limit) {
      return [...jobs.values()]
        .sort((a, b) => (a.job.createdAt < b.job.createdAt ? 1 : a.job.createdAt > b.job.createdAt ? -1 : 0))
        .slice(0, limit)
        .map(statusOf)
    },

    async chunkRecorded(jobId, chunk) {
      return chunks.get(jobId)?.has(chunk) ?? false
    },

    async markRunning(jobId, at) {
      const item = jobs.get(jobId)
      if (item === undefined) throw new JobNotFound(`no job ${jobId}`)
      crash.write('store.markRunning', jobId, () => {
        item.startedAt ??= at
      })
    },

    async recordChunk(jobId, outcome, at) {
      // As in DynamoDB, the chunk's item is written whether or not its job exists.
      const recorded = chunksOf(jobId)
      const first = recorded.get(outcome.chunk)
      if (first === undefined) crash.write('store.chunkItem', `${jobId}#${outcome.chunk}`, () => recorded.set(outcome.chunk, structuredClone(outcome)))
      const counted = first ?? outcome
      await otherCallersRun()
      const item = jobs.get(jobId)
      if (item === undefined) throw new JobNotFound(`no job ${jobId} to count chunk ${outcome.chunk} into`)
      if (item.counted.has(outcome.chunk)) return statusOf(item)
      crash.write('store.chunkCount', `${jobId}#${outcome.chunk}`, () => {
        item.counted.add(outcome.chunk)
        item.chunksDone += 1
        for (const status of ['ok', 'not_found', 'error'] as const) item.counter[status] += counted.counter[status]
        item.unchanged += counted.unchanged
        item.bytes += counted.bytes
        item.updatedAt = at
      })
      return statusOf(item)
    },

    async *failuresOf(jobId) {
      const recorded = [...(chunks.get(jobId) ?? new Map<number, ChunkOutcome>()).entries()].sort(([a], [b]) => a - b)
      for (const [, outcome] of recorded) yield structuredClone(outcome.failures)
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

    recordedChunks(jobId) {
      return [...(chunks.get(jobId)?.keys() ?? [])].sort((a, b) => a - b)
    },
  }
}

/** What the queue's consumer does with one message body; a throw leaves the message to be delivered again. */
export type ChunkHandler = (body: string) => Promise<unknown>

/** A ChunkQueue in memory, delivering its messages as SQS does: at least once, then to dead letters. */
export interface MemoryChunkQueue extends ChunkQueue {
  /** Every body sent, in the order sent (copies of a chunk sent twice included). */
  readonly sent: readonly string[]
  /** Bodies sent and not yet deleted. */
  readonly waiting: readonly string[]
  /**
   * Delivers every waiting message to `handle`, each again while it throws, up to
   * `maxReceiveCount` deliveries; then to `deadLetter` (and again while that throws, as many
   * times). Resolves with the errors the deliveries threw, in order.
   */
  deliver(handle: ChunkHandler, deadLetter: ChunkHandler, maxReceiveCount?: number): Promise<unknown[]>
  /** Sends a body as another producer would (a copy of a message, a poison message). */
  push(body: string): void
}

export interface MemoryQueueOptions {
  /** Why a message cannot be sent, or undefined when it can: the queue hands such messages back. */
  readonly refuse?: (message: ChunkMessage) => string | undefined
  readonly crash?: Crashes
}

/** A queue in memory whose send hands back the messages `refuse` names, with its reason. */
export function memoryChunkQueue({ refuse, crash = crashes() }: MemoryQueueOptions = {}): MemoryChunkQueue {
  const sent: string[] = []
  const waiting: string[] = []
  return {
    sent,
    waiting,
    async send(messages): Promise<Unsent> {
      const unsent: ChunkMessage[] = []
      let reason: string | undefined
      for (const message of messages) {
        const refused = refuse?.(message)
        if (refused !== undefined) {
          unsent.push(message)
          reason = refused
          continue
        }
        const body = JSON.stringify(message)
        crash.write('queue.send', `${message.jobId}#${message.chunk}`, () => {
          sent.push(body)
          waiting.push(body)
        })
      }
      return unsent.length === 0 ? { messages: [] } : { messages: unsent, ...(reason === undefined ? {} : { reason }) }
    },
    push(body) {
      sent.push(body)
      waiting.push(body)
    },
    async deliver(handle, deadLetter, maxReceiveCount = 3) {
      const errors: unknown[] = []
      const attempt = async (handler: ChunkHandler, body: string): Promise<boolean> => {
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
      for (let body = waiting.shift(); body !== undefined; body = waiting.shift()) {
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
