import { describe, expect, it } from 'vitest'
import { InjectedCrash } from '../../../devkit/memoryJobPorts.ts'
import { countDeadLetter } from '../../../lib/jobs/deadLetters.ts'
import type { JobQueue } from '../../../lib/jobs/ports.ts'
import { parseJobMessage } from '../../../lib/jobs/messages.ts'
import { startJob } from '../../../lib/jobs/planner.ts'
import { runJobMessage } from '../../../lib/jobs/worker.ts'
import { codesOf, expectCountedOnce, FAN_OUT_CHECK_SECONDS, jobsHarness, timeLeftFor, type JobsHarness } from './jobsHarness.ts'

/**
 * SQS promises neither order nor a single delivery, and workers run side by side. Here the jobs
 * core runs under a seeded scheduler that delivers its messages in any order, some twice, some
 * at the same moment, a fan-out check at any time, with one crash somewhere in the job's writes:
 * whatever the schedule, the job ends as the ordered run does.
 */

/** A small seeded generator (mulberry32): a failing seed replays the same schedule. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

interface ShuffledQueue extends JobQueue {
  readonly ready: string[]
  readonly delayed: string[]
}

/** A queue that only holds what is sent (a write, as the in-memory queue's), for the scheduler to deliver as it likes. */
function shuffledQueue(jobs: JobsHarness): ShuffledQueue {
  const ready: string[] = []
  const delayed: string[] = []
  return {
    ready,
    delayed,
    async send(messages, delaySeconds = 0) {
      for (const message of messages) {
        const body = JSON.stringify(message)
        jobs.crash.write('queue.send', message.kind, () => (delaySeconds > 0 ? delayed : ready).push(body))
      }
    },
  }
}

const REQUEST_ID = 'schedule-event-9'
const codes = [...codesOf('c', 22), 'missing', 'broken']
const answers = { missing: 404, broken: 500 } as const
const MAX_RECEIVES = 3
const MAX_STEPS = 2_000

/** Runs the job under the schedule of `seed`; answers the harness and the job's id. */
async function scheduledRun(seed: number, crashAfterWrite: number | undefined, crashesAgain = false) {
  const next = random(seed)
  const jobs = jobsHarness({ answers, chunkSize: 10 })
  const queue = shuffledQueue(jobs)
  const planner = { ...jobs.planner, queue }
  const worker = { ...jobs.worker, queue }
  const deadLetters = { ...jobs.deadLetters, queue }
  if (crashAfterWrite !== undefined) jobs.crash.afterWrite(crashAfterWrite)
  const plan = () => startJob({ codes, concurrency: 1 }, planner, (jobId) => `/jobs/${jobId}`, REQUEST_ID)
  // A planner that died is sent the request again, with its id (as a schedule's event is, a few times).
  let accepted: Awaited<ReturnType<typeof plan>> | undefined
  for (let attempt = 0; attempt < 5 && accepted === undefined; attempt += 1) {
    accepted = await plan().catch((error: unknown) => {
      if (error instanceof InjectedCrash) return undefined
      throw error
    })
    // The planner's first tries die again; a later one gets through, as a schedule's retries would.
    if (crashesAgain && attempt < 2 && !jobs.crash.armed) jobs.crash.afterWrite(jobs.crash.writes.length + 1 + Math.floor(next() * 8))
  }
  if (accepted === undefined) throw new Error(`schedule ${seed}: the planner never got through`)
  const receives = new Map<string, number>()
  const deliver = async (body: string) => {
    const message = parseJobMessage(body)
    // Chunk 1's first part runs out of time after three codes, on every delivery.
    const controls = message.kind === 'chunk' && message.chunk === 1 && message.part === 0 ? timeLeftFor(3) : {}
    try {
      await runJobMessage(body, worker, controls)
    } catch {
      const received = (receives.get(body) ?? 0) + 1
      receives.set(body, received)
      if (received < MAX_RECEIVES) queue.ready.push(body)
      else await countDeadLetter(body, deadLetters).catch(() => undefined)
    }
  }
  for (let step = 0; step < MAX_STEPS && queue.ready.length + queue.delayed.length > 0; step += 1) {
    // A delayed check comes once its delay has passed: when nothing else is waiting, or now and then at random.
    if (queue.delayed.length > 0 && (queue.ready.length === 0 || next() < 0.1)) {
      jobs.clock.advance(FAN_OUT_CHECK_SECONDS)
      queue.ready.push(...queue.delayed.splice(0))
    }
    // One to three messages at once, each taken at random, some left to be delivered again.
    const batch: string[] = []
    const side = 1 + Math.floor(next() * 3)
    for (let i = 0; i < side && queue.ready.length > 0; i += 1) {
      const index = Math.floor(next() * queue.ready.length)
      const body = queue.ready[index] ?? ''
      if (next() >= 0.2) queue.ready.splice(index, 1)
      batch.push(body)
    }
    await Promise.all(batch.map(deliver))
    if (crashesAgain && !jobs.crash.armed) jobs.crash.afterWrite(jobs.crash.writes.length + 1 + Math.floor(next() * 8))
  }
  return { jobs, jobId: accepted.jobId, queue }
}

const ordered = await (async () => {
  const jobs = jobsHarness({ answers, chunkSize: 10 })
  const accepted = await jobs.start({ codes, concurrency: 1 }, REQUEST_ID)
  await jobs.deliverAll(MAX_RECEIVES, (message) => (message.chunk === 1 && message.part === 0 ? timeLeftFor(3) : {}))
  const job = await jobs.status(accepted.jobId)
  return { job, report: jobs.report(accepted.jobId), writes: jobs.crash.writes.length, fetched: new Set(jobs.origin.requests.map(({ url }) => url)) }
})()

const seeds = Array.from({ length: 24 }, (_, i) => ({ seed: i + 1, crashAfterWrite: i % 4 === 0 ? undefined : 1 + ((i * 7) % ordered.writes) }))

describe('Jobs delivered in any order', () => {
  it('ends the ordered run done, every code counted once, one chunk in two parts', () => {
    expectCountedOnce(ordered.job)
    expect(ordered.job).toMatchObject({ total: 24, counter: { ok: 22, not_found: 1, error: 1 } })
  })

  it.each(seeds)('ends as the ordered run under schedule $seed, crashing after write $crashAfterWrite', async ({ seed, crashAfterWrite }) => {
    const { jobs, jobId, queue } = await scheduledRun(seed, crashAfterWrite)

    const job = await jobs.status(jobId)
    expect(queue.ready.length + queue.delayed.length).toBe(0)
    expectCountedOnce(job)
    expect(job).toMatchObject({ total: ordered.job?.total, counter: ordered.job?.counter })
    expect(jobs.report(jobId)).toBe(ordered.report)
    expect(jobs.store.recordedParts(jobId)).toEqual(['0.0', '1.0', '1.1', '2.0'])
    // Copies of the finish that run at the same moment may each write the report, the same one; the first close stands.
    expect(job).toMatchObject({ reportKey: `reports/${jobId}.csv`, finishedAt: expect.any(String) as string })
    expect(new Set(jobs.origin.requests.map(({ url }) => url))).toEqual(ordered.fetched)
  })
})

describe('Jobs delivered in any order, with a crash after every few writes', () => {
  it.each(Array.from({ length: 16 }, (_, i) => ({ seed: 100 + i })))('ends done, every code counted once, under schedule $seed', async ({ seed }) => {
    const { jobs, jobId, queue } = await scheduledRun(seed, 1 + (seed % 5), true)

    const job = await jobs.status(jobId)
    expect(queue.ready.length + queue.delayed.length).toBe(0)
    expectCountedOnce(job)
    expect(job?.total).toBe(24)
    // The report lists every code that did not end ok, once.
    const reported = (jobs.report(jobId) ?? '').trim().split('\n').slice(1).map((line) => line.split(',')[0])
    expect(reported).toHaveLength((job?.counter.not_found ?? 0) + (job?.counter.error ?? 0))
    expect(new Set(reported).size).toBe(reported.length)
  })
})
