import { describe, expect, it } from 'vitest'
import { InjectedCrash, QueueRefused, type Write } from '../../../devkit/memoryJobPorts.ts'
import type { JobStatus } from '../../../lib/jobs/job.ts'
import { codesOf, expectCountedOnce, jobsHarness, timeLeftFor, type ChunkControls, type HarnessOptions, type JobsHarness } from './jobsHarness.ts'

/**
 * Every write of a job's life is a point a function can die at, leaving the writes before it and
 * none after. Each flow is run once cleanly to list its writes, then once per write with a crash
 * just after it, followed by what AWS does next (the request retried with its id when the planner
 * died, the waiting messages delivered again otherwise, the fan-out's delayed check among them):
 * the job must end as the clean run did, every code counted once, closed once.
 */
interface Flow {
  /** The harness's options, made afresh for each run (a queue that refuses once keeps count). */
  readonly options: () => HarnessOptions
  readonly codes: readonly string[]
  /** The parts the job's chunks are counted in. */
  readonly parts: number
  /** The planner's part of the flow, as the scheduler runs it: the request sent again, with its id, while it fails short of a crash. */
  plan(jobs: JobsHarness): Promise<string>
  /** The rest: every message delivered until none is left. */
  work(jobs: JobsHarness): Promise<unknown[]>
}

interface CleanRun {
  readonly job: JobStatus
  readonly report: string
  readonly plannerWrites: number
  readonly writes: readonly Write[]
  /** The image URLs the origin was asked for. */
  readonly fetched: ReadonlySet<string>
  readonly requests: number
}

const REQUEST_ID = 'schedule-event-1'
const codes = [...codesOf('c', 22), 'missing', 'broken']
const answers = { missing: 404, broken: 500 } as const
const start = (input: unknown, remainingMs?: () => number) => async (jobs: JobsHarness) => (await jobs.start(input, REQUEST_ID, remainingMs)).jobId

async function retriedWhileRefused(jobs: JobsHarness, input: unknown): Promise<string> {
  try {
    return (await jobs.start(input, REQUEST_ID)).jobId
  } catch (error) {
    if (!(error instanceof QueueRefused)) throw error
    return (await jobs.start(input, REQUEST_ID)).jobId
  }
}

function refusingOnce(): HarnessOptions['refuse'] {
  let refusals = 1
  return (message) => (message.kind === 'chunk' && message.chunk === 1 && refusals-- > 0 ? 'throttled' : undefined)
}

// Chunk 1's first part runs out of time after three codes; every other run has time.
const cutChunk1: ChunkControls = (message) => (message.chunk === 1 && message.part === 0 ? timeLeftFor(3) : {})

const flows = {
  'a job whose chunks the workers run': {
    options: () => ({ answers, chunkSize: 10 }),
    codes,
    parts: 3,
    plan: start({ codes }),
    work: (jobs) => jobs.deliverAll(),
  },
  'a job one of whose chunk sends fails, left to its check': {
    options: () => ({ answers, chunkSize: 10, refuse: refusingOnce() }),
    codes,
    parts: 3,
    plan: (jobs) => retriedWhileRefused(jobs, { codes }),
    work: (jobs) => jobs.deliverAll(),
  },
  'a job whose planner is short of time and hands its fan-out on': {
    options: () => ({ answers, chunkSize: 10 }),
    codes,
    parts: 3,
    plan: start({ codes }, () => 1_000),
    work: (jobs) => jobs.deliverAll(),
  },
  'a job one of whose chunks the deadline cuts, the rest sent on': {
    options: () => ({ answers, chunkSize: 10 }),
    codes,
    parts: 4,
    plan: start({ codes, concurrency: 1 }),
    work: (jobs) => jobs.deliverAll(3, cutChunk1),
  },
  'a job whose chunks run out of time until they are dead-lettered': {
    options: () => ({ answers, chunkSize: 10 }),
    codes,
    parts: 3,
    plan: start({ codes }),
    work: (jobs) => jobs.deliverAll(2, { remainingMs: () => 0 }),
  },
} satisfies Record<string, Flow>

async function cleanRun(flow: Flow): Promise<CleanRun> {
  const jobs = jobsHarness(flow.options())
  const jobId = await flow.plan(jobs)
  const plannerWrites = jobs.crash.writes.length
  await flow.work(jobs)
  const job = await jobs.status(jobId)
  if (job === undefined) throw new Error('the clean run stored no job')
  return { job, report: jobs.report(jobId) ?? '', plannerWrites, writes: [...jobs.crash.writes], fetched: fetchedBy(jobs), requests: jobs.origin.requests.length }
}

/** Runs the flow with a crash just after its `ordinal`-th write, then recovers as AWS would. */
async function crashedRun(flow: Flow, ordinal: number, plannerWrites: number) {
  const jobs = jobsHarness(flow.options())
  jobs.crash.afterWrite(ordinal)
  // The planner died: the scheduler sends the request again, with its id.
  if (ordinal <= plannerWrites) await expect(flow.plan(jobs)).rejects.toBeInstanceOf(InjectedCrash)
  const jobId = await flow.plan(jobs)
  const errors = await flow.work(jobs)
  return { jobs, jobId, errors }
}

const fetchedBy = (jobs: JobsHarness) => new Set(jobs.origin.requests.map((request) => request.url))
const count = (writes: readonly Write[], point: Write['point']) => writes.filter((write) => write.point === point).length

for (const [name, flow] of Object.entries(flows) as [string, Flow][]) {
  const clean = await cleanRun(flow)
  // Named without ids, so that a point keeps its name from run to run.
  const points = clean.writes.map((write, index) => ({ ordinal: index + 1, write: `${write.point} ${write.subject.replace(clean.job.jobId, 'job').replace(/[0-9a-f-]{36}/, 'plan')}` }))

  describe(`Crash points: ${name}`, () => {
    it('ends done in the clean run, with every code counted once', () => {
      expectCountedOnce(clean.job)
      expect(clean.job.total).toBe(flow.codes.length)
      expect(count(clean.writes, 'store.part')).toBe(flow.parts)
    })

    it.each(points)('recovers from a crash after write $ordinal ($write): counted once, closed once, the same report', async ({ ordinal }) => {
      const { jobs, jobId, errors } = await crashedRun(flow, ordinal, clean.plannerWrites)

      const job = await jobs.status(jobId)
      expect(jobs.crash.armed).toBe(false)
      expect(errors.filter((error) => error instanceof InjectedCrash)).toHaveLength(ordinal <= clean.plannerWrites ? 0 : 1)
      expectCountedOnce(job)
      expect(job).toMatchObject({ state: 'done', total: clean.job.total, chunksDone: clean.job.chunks, counter: clean.job.counter, reportKey: `reports/${jobId}.csv` })
      expect(jobs.report(jobId)).toBe(clean.report)
      expect(count(jobs.crash.writes, 'store.part')).toBe(count(clean.writes, 'store.part'))
      expect(count(jobs.crash.writes, 'store.finish')).toBe(1)
      expect(fetchedBy(jobs)).toEqual(clean.fetched)
      // A part is counted in the write that records it: no crash point lies between a run and its count.
      expect(jobs.origin.requests).toHaveLength(clean.requests)
    })
  })
}

describe('Crash points: a planner that dies mid-fan-out of a job of 350 chunks', () => {
  const bigCodes = codesOf('b', 350)

  /** How many times each chunk's first part was sent. */
  const sendsPerChunk = (jobs: JobsHarness) => {
    const sends = Array.from({ length: 350 }, () => 0)
    for (const { chunk, part } of jobs.chunksSent()) if (part === 0) sends[chunk] = (sends[chunk] ?? 0) + 1
    return sends
  }

  it.each([
    { name: 'just after the job is stored, before any chunk is sent', point: 'store.create', nth: 1, checkpoint: 0, sentBeforeCrash: 0 },
    { name: 'after the first checkpoint', point: 'store.fannedOut', nth: 1, checkpoint: 100, sentBeforeCrash: 100 },
    { name: 'in the middle of its third group', point: 'queue.send', nth: 1 + 250, checkpoint: 200, sentBeforeCrash: 250 },
    { name: 'after the last chunk is sent, before its checkpoint', point: 'queue.send', nth: 1 + 350, checkpoint: 300, sentBeforeCrash: 350 },
  ] as const)('finishes exactly when it dies $name, the check taking the fan-out up from its checkpoint', async ({ point, nth, checkpoint, sentBeforeCrash }) => {
    const jobs = jobsHarness({ chunkSize: 1 })
    // The check is the queue's first send; the chunks follow.
    jobs.crash.at(point, 'after', nth)

    await expect(jobs.start({ codes: bigCodes }, REQUEST_ID)).rejects.toBeInstanceOf(InjectedCrash)
    const stopped = await jobs.store.recent(1)
    const retried = await jobs.start({ codes: bigCodes }, REQUEST_ID)
    const errors = await jobs.deliverAll()

    expect(stopped[0]?.jobId).toBe(retried.jobId)
    expect(await jobs.record(retried.jobId)).toMatchObject({ chunksSent: 350 })
    expect(errors).toEqual([])
    const job = await jobs.status(retried.jobId)
    expectCountedOnce(job)
    expect(job).toMatchObject({ total: 350, chunks: 350, counter: { ok: 350, not_found: 0, error: 0 } })
    const sends = sendsPerChunk(jobs)
    // Every chunk up to the checkpoint sent once; past it, those sent before the crash sent again.
    expect(sends.slice(0, checkpoint).every((times) => times === 1)).toBe(true)
    expect(sends.slice(checkpoint).every((times) => times >= 1)).toBe(true)
    const resent = sends.reduce((sum, times) => sum + times - 1, 0)
    expect(resent).toBe(sentBeforeCrash - checkpoint)
    expect(resent).toBeLessThanOrEqual(100)
    expect(jobs.origin.requests).toHaveLength(350)
    expect(count(jobs.crash.writes, 'store.finish')).toBe(1)
  })
})
