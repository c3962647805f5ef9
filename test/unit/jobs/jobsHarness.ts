import { buffer } from 'node:stream/consumers'
import { Readable } from 'node:stream'
import { expect } from 'vitest'
import type { EngineSettings, RunControls } from '../../../lib/download/engine.ts'
import { testSettings } from '../download/testSettings.ts'
import { TransportError } from '../../../lib/download/errors.ts'
import type { ImageRequest, ImageSource, ObjectSink, OriginValidators } from '../../../lib/download/ports.ts'
import { countDeadLetter, type DeadLetterDeps } from '../../../lib/jobs/deadLetters.ts'
import { PartLeased } from '../../../lib/jobs/errors.ts'
import type { RemainingMs } from '../../../lib/jobs/fanOut.ts'
import type { JobSteps, StepResult } from '../../../lib/jobs/finish.ts'
import type { JobRecord, JobStatus } from '../../../lib/jobs/job.ts'
import { parseJobMessage, type ChunkMessage, type JobMessage } from '../../../lib/jobs/messages.ts'
import { startJob, type JobAccepted, type JobRules, type PlannerDeps } from '../../../lib/jobs/planner.ts'
import { runJobMessage, type WorkerDeps } from '../../../lib/jobs/worker.ts'
import { jpegBytes } from '../../../devkit/originFixture.ts'
import {
  crashes,
  memoryJobObjects,
  memoryJobQueue,
  memoryJobStore,
  type Crashes,
  type MemoryJobObjects,
  type MemoryJobQueue,
  type MemoryJobStore,
  type MemoryQueueOptions,
} from '../../../devkit/memoryJobPorts.ts'

export const ORIGIN = 'https://origin.test/flags'
const ORIGIN_ETAG = '"v1"'

/** How the in-memory origin answers a code: an image, an HTTP status, or never (until the request is aborted). */
export type Answer = 'image' | number | 'stall'

/** An origin in memory: every code an image unless `answers` says otherwise; conditional requests answered 304. */
export interface MemoryOrigin extends ImageSource {
  readonly requests: ImageRequest[]
  /** Called when a request for a stalling code arrives: where a test pulls the plug. */
  onStall?: () => void
}

export function memoryOrigin(answers: Record<string, Answer> = {}): MemoryOrigin {
  const origin: MemoryOrigin = {
    requests: [],
    async get(request) {
      origin.requests.push(request)
      const code = request.url.slice(ORIGIN.length + 1).replace(/\.jpg$/, '')
      const answer = answers[code] ?? 'image'
      if (answer === 'stall') {
        origin.onStall?.()
        return new Promise((_resolve, reject) => {
          const abort = () => reject(new TransportError('timeout', 'aborted'))
          if (request.signal.aborted) abort()
          else request.signal.addEventListener('abort', abort, { once: true })
        })
      }
      if (answer !== 'image') return { status: answer, headers: {}, body: Readable.from([Buffer.from('no')]), discard: async () => undefined }
      if (request.validators?.etag === ORIGIN_ETAG) return { status: 304, headers: { etag: ORIGIN_ETAG }, body: Readable.from([]), discard: async () => undefined }
      const body = jpegBytes(code.length, 200)
      return { status: 200, headers: { etag: ORIGIN_ETAG, contentLength: body.length }, body: Readable.from([body]), discard: async () => undefined }
    },
  }
  return origin
}

/** A bucket of images in memory. */
export interface MemorySink extends ObjectSink {
  readonly stored: Map<string, OriginValidators>
  readonly puts: string[]
}

export function memorySink(): MemorySink {
  const stored = new Map<string, OriginValidators>()
  const puts: string[] = []
  return {
    stored,
    puts,
    async validatorsOf(key) {
      return stored.get(key)
    },
    async put({ key, body, validators }) {
      if (!Buffer.isBuffer(body)) await buffer(body)
      puts.push(key)
      stored.set(key, validators)
    },
  }
}

/** A clock that moves a millisecond per reading, so that two writes never share a time, and as far as a test moves it. */
export interface TestClock {
  readonly now: () => Date
  advance(this: void, seconds: number): void
}

export function testClock(start = Date.UTC(2026, 10, 26, 10, 0, 0)): TestClock {
  let ms = start
  return {
    now: () => new Date(ms++),
    advance(seconds) {
      ms += seconds * 1000
    },
  }
}

// The download core's test limits, with room for the harness's images and a retry clock of its
// own; its memory budget admits a chunk's requests at once while one of them stalls.
const SETTINGS: EngineSettings = { ...testSettings, maxImageBytes: 1024 * 1024, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 }, attemptTimeoutMs: 5_000, storeConcurrency: 4 }

export const REPORT_PREFIX = 'reports/'
export const PLAN_PREFIX = 'plans/'
export const FAN_OUT_CHECK_SECONDS = 60

export interface HarnessOptions {
  readonly answers?: Record<string, Answer>
  readonly chunkSize?: number
  readonly maxCodes?: number
  readonly maxManifestBytes?: number
  readonly workerConcurrency?: number
  readonly manifests?: Record<string, string>
  readonly refuse?: MemoryQueueOptions['refuse']
  /** The hosts the workers' rules allow, when they have changed since the job was planned. */
  readonly workerAllowedHosts?: readonly string[]
  /** The most codes the workers' rules let a chunk hold (500, as deployed, unless told). */
  readonly workerMaxCodes?: number
}

/** The controls a chunk's delivery runs with: the same for every one, or made afresh for each (a Lambda's own deadline). */
export type ChunkControls = RunControls | ((message: ChunkMessage) => RunControls)

/**
 * The jobs core bound to in-memory ports, as the jobs wiring binds it to DynamoDB, SQS and S3:
 * the planner, the worker (running the real engine against an in-memory origin and bucket) and
 * the dead-letter count (which finds stored images in that bucket), with one crash switch over
 * every write and a clock the fan-out checks are read against.
 */
export interface JobsHarness {
  readonly crash: Crashes
  readonly store: MemoryJobStore
  readonly queue: MemoryJobQueue
  readonly objects: MemoryJobObjects
  readonly origin: MemoryOrigin
  readonly sink: MemorySink
  readonly clock: TestClock
  readonly planner: PlannerDeps
  readonly worker: WorkerDeps
  readonly deadLetters: DeadLetterDeps
  start(input: unknown, requestId?: string, remainingMs?: RemainingMs): Promise<JobAccepted>
  /** One delivery of a message to the worker. */
  run(body: string, controls?: RunControls): Promise<StepResult>
  countDeadLetter(body: string): Promise<StepResult>
  /**
   * Delivers every waiting message, SQS-like: again while it throws, then to the dead-letter
   * count. A fan-out check (the only delayed message) comes once its delay has passed: the clock
   * moves that far. `controls` are those of the chunks' runs; a fan-out or a finish has time.
   */
  deliverAll(maxReceiveCount?: number, controls?: ChunkControls, maxDeliveries?: number): Promise<unknown[]>
  status(jobId: string): Promise<JobStatus | undefined>
  record(jobId: string): Promise<JobRecord | undefined>
  report(jobId: string): string | undefined
  /** Every message sent so far, copies included, in the order sent. */
  sent(): JobMessage[]
  /** The chunk messages sent so far, copies included. */
  chunksSent(): ChunkMessage[]
}

export function jobsHarness(options: HarnessOptions = {}): JobsHarness {
  const crash = crashes()
  const store = memoryJobStore(crash)
  const queue = memoryJobQueue({ crash, ...(options.refuse === undefined ? {} : { refuse: options.refuse }) })
  const objects = memoryJobObjects(options.manifests, crash)
  const origin = memoryOrigin(options.answers)
  const sink = memorySink()
  const clock = testClock()
  const steps: JobSteps = { store, objects, queue, reportPrefix: REPORT_PREFIX, now: clock.now, fanOutCheckSeconds: FAN_OUT_CHECK_SECONDS }
  const originPolicy = { allowedHosts: ['origin.test'], localOrigins: false }
  const rules: JobRules = {
    request: { codes: [], baseUrl: ORIGIN, concurrency: 4, keyPrefix: 'flags/', maxCodes: options.maxCodes ?? 1000, originPolicy },
    manifestPrefix: 'manifests/',
    maxManifestBytes: options.maxManifestBytes ?? 64 * 1024,
    chunkSize: options.chunkSize ?? 10,
    workerConcurrency: options.workerConcurrency ?? 10,
  }
  // Every host resolves to a public address: the rules, not the DNS, decide here.
  const resolveHost = async () => ['93.184.216.34']
  const planner: PlannerDeps = { ...steps, rules, planPrefix: PLAN_PREFIX, resolveHost }
  const workerRules = {
    ...rules.request,
    maxCodes: options.workerMaxCodes ?? 500,
    originPolicy: options.workerAllowedHosts === undefined ? originPolicy : { ...originPolicy, allowedHosts: [...options.workerAllowedHosts] },
  }
  const worker: WorkerDeps = { ...steps, download: { rules: workerRules, settings: SETTINGS, ports: { source: origin, sink }, resolveHost } }
  const deadLetters: DeadLetterDeps = { ...steps, isStored: async (key) => sink.stored.has(key) }
  const parsed = (body: string): JobMessage | undefined => {
    try {
      return parseJobMessage(body)
    } catch {
      return undefined
    }
  }
  const harness: JobsHarness = {
    crash,
    store,
    queue,
    objects,
    origin,
    sink,
    clock,
    planner,
    worker,
    deadLetters,
    start: (input, requestId, remainingMs) => startJob(input, planner, (jobId) => `/jobs/${jobId}`, requestId, remainingMs),
    run: (body, controls) => runJobMessage(body, worker, controls),
    countDeadLetter: (body) => countDeadLetter(body, deadLetters),
    deliverAll: (maxReceiveCount, controls = {}, maxDeliveries) =>
      queue.deliver(
        (body) => {
          const message = parsed(body)
          if (message?.kind === 'fanOut' && message.check) clock.advance(FAN_OUT_CHECK_SECONDS)
          if (message?.kind !== 'chunk') return harness.run(body)
          return harness.run(body, typeof controls === 'function' ? controls(message) : controls)
        },
        async (body) => {
          try {
            return await harness.countDeadLetter(body)
          } catch (error) {
            // Delivered again once the dead-letter queue's visibility timeout has passed: by then
            // the worker that held the part has ended, whatever its timeout.
            if (error instanceof PartLeased) clock.advance(WORKER_TIMEOUT_SECONDS)
            throw error
          }
        },
        maxReceiveCount,
        maxDeliveries,
      ),
    status: (jobId) => store.get(jobId),
    record: (jobId) => store.record(jobId),
    report: (jobId) => objects.objects.get(`${REPORT_PREFIX}${jobId}.csv`)?.text,
    sent: () => queue.sent.map((body) => JSON.parse(body) as JobMessage),
    chunksSent: () => harness.sent().filter((message): message is ChunkMessage => message.kind === 'chunk'),
  }
  return harness
}

// Lambda's longest: a worker run without a deadline holds its part this long.
export const WORKER_TIMEOUT_SECONDS = 15 * 60

/** `count` codes named `${stem}0`, `${stem}1`, … */
export function codesOf(stem: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${stem}${i}`)
}

/** What must hold of every job at its end: every code counted once, every chunk counted, and the job closed. */
export function expectCountedOnce(job: JobStatus | undefined): void {
  expect(job).toBeDefined()
  const { counter, total, chunks, chunksDone, state } = job ?? ({} as JobStatus)
  expect(counter.ok + counter.not_found + counter.error).toBe(total)
  expect(chunksDone).toBe(chunks)
  expect(state).toBe('done')
}

/** Remaining time that runs out once `codes` codes have started, for a run of concurrency 1: a Lambda's deadline, cutting a part short. */
export function timeLeftFor(codes: number): RunControls {
  let starts = 0
  // The first reading is the worker's hold on the part, the second sets the run's timer; each
  // later one asks whether a code may start.
  return { remainingMs: () => (starts++ <= codes + 1 ? 60_000 : 0) }
}
