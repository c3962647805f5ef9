import { describe, expect, it } from 'vitest'
import { InjectedCrash, type Write } from '../../../devkit/memoryJobPorts.ts'
import type { RunControls } from '../../../lib/download/engine.ts'
import type { JobStatus } from '../../../lib/jobs/job.ts'
import { codesOf, jobsHarness, type HarnessOptions, type JobsHarness } from './jobsHarness.ts'

/**
 * Every write of a job's life is a point a function can die at, leaving the writes before it and
 * none after. Each flow is run once cleanly to list its writes, then once per write with a crash
 * just after it, followed by what AWS does next (the message delivered again, the scheduled
 * request retried): the job must end as the clean run did, every chunk counted once, closed once.
 */
interface Flow {
  readonly options: HarnessOptions
  readonly codes: readonly string[]
  /** The planner's part, and the workers' part, of the flow. */
  plan(jobs: JobsHarness): Promise<string>
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
const outOfTime: RunControls = { remainingMs: () => 0 }

const flows = {
  'a job whose chunks the workers run': {
    options: { answers, chunkSize: 10 },
    codes,
    plan: async (jobs) => (await jobs.start({ codes }, REQUEST_ID)).jobId,
    work: (jobs) => jobs.deliverAll(),
  },
  'a job with a chunk the planner cannot queue': {
    options: { answers, chunkSize: 10, refuse: (message) => (message.chunk === 1 ? 'throttled' : undefined) },
    codes,
    plan: async (jobs) => (await jobs.start({ codes }, REQUEST_ID)).jobId,
    work: (jobs) => jobs.deliverAll(),
  },
  'a job none of whose chunks can be queued': {
    options: { answers, chunkSize: 10, refuse: () => 'throttled' },
    codes,
    plan: async (jobs) => (await jobs.start({ codes }, REQUEST_ID)).jobId,
    work: (jobs) => jobs.deliverAll(),
  },
  'a job whose chunks run out of time until they are dead-lettered': {
    options: { answers, chunkSize: 10 },
    codes,
    plan: async (jobs) => (await jobs.start({ codes }, REQUEST_ID)).jobId,
    work: (jobs) => jobs.deliverAll(2, outOfTime),
  },
} satisfies Record<string, Flow>

async function cleanRun(flow: Flow): Promise<CleanRun> {
  const jobs = jobsHarness(flow.options)
  const jobId = await flow.plan(jobs)
  const plannerWrites = jobs.crash.writes.length
  await flow.work(jobs)
  const job = await jobs.status(jobId)
  if (job === undefined) throw new Error('the clean run stored no job')
  return { job, report: jobs.report(jobId) ?? '', plannerWrites, writes: [...jobs.crash.writes], fetched: fetchedBy(jobs), requests: jobs.origin.requests.length }
}

/** Runs the flow with a crash just after its `ordinal`-th write, then recovers as AWS would. */
async function crashedRun(flow: Flow, ordinal: number, plannerWrites: number) {
  const jobs = jobsHarness(flow.options)
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
  const points = clean.writes.map((write, index) => ({ ordinal: index + 1, point: write.point, write: `${write.point} ${write.subject.replace(clean.job.jobId, 'job')}` }))

  describe(`Crash points: ${name}`, () => {
    it('ends done in the clean run, with every code counted once', () => {
      const { counter, total, chunks, chunksDone, state } = clean.job
      expect(state).toBe('done')
      expect(chunksDone).toBe(chunks)
      expect(counter.ok + counter.not_found + counter.error).toBe(total)
      expect(total).toBe(flow.codes.length)
    })

    it.each(points)('recovers from a crash after write $ordinal ($write): counted once, closed once, the same report', async ({ ordinal, point }) => {
      const { jobs, jobId, errors } = await crashedRun(flow, ordinal, clean.plannerWrites)

      const job = await jobs.status(jobId)
      expect(jobs.crash.armed).toBe(false)
      expect(errors.filter((error) => error instanceof InjectedCrash)).toHaveLength(ordinal <= clean.plannerWrites ? 0 : 1)
      expect(job).toMatchObject({ state: 'done', chunksDone: clean.job.chunks, counter: clean.job.counter, reportKey: `reports/${jobId}.csv` })
      expect(jobs.report(jobId)).toBe(clean.report)
      expect(count(jobs.crash.writes, 'store.chunkCount')).toBe(clean.job.chunks)
      expect(count(jobs.crash.writes, 'store.finish')).toBe(1)
      expect(fetchedBy(jobs)).toEqual(clean.fetched)
      // A chunk is run again only when it died between being marked running and its outcome's write.
      if (point === 'store.markRunning') expect(jobs.origin.requests.length).toBeGreaterThanOrEqual(clean.requests)
      else expect(jobs.origin.requests).toHaveLength(clean.requests)
    })
  })
}
