import { buffer } from 'node:stream/consumers'
import { Readable } from 'node:stream'
import type { EngineSettings, RunControls } from '../../../lib/download/engine.ts'
import { testSettings } from '../download/testSettings.ts'
import { TransportError } from '../../../lib/download/errors.ts'
import type { ImageRequest, ImageSource, ObjectSink, OriginValidators } from '../../../lib/download/ports.ts'
import type { Finishing } from '../../../lib/jobs/finish.ts'
import type { JobStatus } from '../../../lib/jobs/job.ts'
import { startJob, type JobAccepted, type JobRules, type PlannerDeps } from '../../../lib/jobs/planner.ts'
import { countDeadLetter, runChunk, type ChunkCount, type WorkerDeps } from '../../../lib/jobs/worker.ts'
import { jpegBytes } from '../../../devkit/originFixture.ts'
import {
  crashes,
  memoryChunkQueue,
  memoryJobObjects,
  memoryJobStore,
  type Crashes,
  type MemoryChunkQueue,
  type MemoryJobObjects,
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

// The download core's test limits, with room for the harness's images and a retry clock of its own.
const SETTINGS: EngineSettings = { ...testSettings, maxImageBytes: 1024 * 1024, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 }, attemptTimeoutMs: 5_000, memoryBudgetBytes: 16 * 1024 * 1024, storeConcurrency: 4 }

export const REPORT_PREFIX = 'reports/'

export interface HarnessOptions {
  readonly answers?: Record<string, Answer>
  readonly chunkSize?: number
  readonly maxCodes?: number
  readonly maxManifestBytes?: number
  readonly workerConcurrency?: number
  readonly manifests?: Record<string, string>
  readonly refuse?: MemoryQueueOptions['refuse']
}

/**
 * The jobs core bound to in-memory ports, as the jobs wiring binds it to DynamoDB, SQS and S3:
 * the planner, the worker (running the real engine against an in-memory origin and bucket) and
 * the dead-letter count, with one crash switch over every write.
 */
export interface JobsHarness {
  readonly crash: Crashes
  readonly store: MemoryJobStore
  readonly queue: MemoryChunkQueue
  readonly objects: MemoryJobObjects
  readonly origin: MemoryOrigin
  readonly sink: MemorySink
  readonly planner: PlannerDeps
  readonly worker: WorkerDeps
  start(input: unknown, requestId?: string): Promise<JobAccepted>
  runChunk(body: string, controls?: RunControls): Promise<ChunkCount>
  countDeadLetter(body: string): Promise<ChunkCount>
  /** Delivers every waiting message, SQS-like: again while it throws, then to the dead-letter count. */
  deliverAll(maxReceiveCount?: number, controls?: RunControls): Promise<unknown[]>
  status(jobId: string): Promise<JobStatus | undefined>
  report(jobId: string): string | undefined
}

export function jobsHarness(options: HarnessOptions = {}): JobsHarness {
  const crash = crashes()
  const store = memoryJobStore(crash)
  const queue = memoryChunkQueue({ crash, ...(options.refuse === undefined ? {} : { refuse: options.refuse }) })
  const objects = memoryJobObjects(options.manifests, crash)
  const origin = memoryOrigin(options.answers)
  const sink = memorySink()
  let tick = 0
  // A clock that moves a second per reading, so a second write at the same point shows.
  const now = () => new Date(Date.UTC(2026, 10, 26, 10, 0, tick++))
  const finishing: Finishing = { store, objects, reportPrefix: REPORT_PREFIX, now }
  const rules: JobRules = {
    request: {
      codes: [],
      baseUrl: ORIGIN,
      concurrency: 4,
      keyPrefix: 'flags/',
      maxCodes: options.maxCodes ?? 1000,
      originPolicy: { allowedHosts: ['origin.test'], localOrigins: false },
    },
    manifestPrefix: 'manifests/',
    maxManifestBytes: options.maxManifestBytes ?? 64 * 1024,
    chunkSize: options.chunkSize ?? 10,
    workerConcurrency: options.workerConcurrency ?? 10,
  }
  // Every host resolves to a public address: the rules, not the DNS, decide here.
  const resolveHost = async () => ['93.184.216.34']
  const planner: PlannerDeps = { ...finishing, rules, queue, objects, resolveHost }
  const worker: WorkerDeps = {
    ...finishing,
    download: { rules: { ...rules.request, maxCodes: 500 }, settings: SETTINGS, ports: { source: origin, sink }, resolveHost },
  }
  const harness: JobsHarness = {
    crash,
    store,
    queue,
    objects,
    origin,
    sink,
    planner,
    worker,
    start: (input, requestId) => startJob(input, planner, (jobId) => `/jobs/${jobId}`, requestId),
    runChunk: (body, controls) => runChunk(body, worker, controls),
    countDeadLetter: (body) => countDeadLetter(body, finishing),
    deliverAll: (maxReceiveCount, controls) => queue.deliver((body) => harness.runChunk(body, controls), (body) => harness.countDeadLetter(body), maxReceiveCount),
    status: (jobId) => store.get(jobId),
    report: (jobId) => objects.objects.get(`${REPORT_PREFIX}${jobId}.csv`)?.text,
  }
  return harness
}

/** `count` codes named `${stem}0`, `${stem}1`, … */
export function codesOf(stem: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${stem}${i}`)
}
