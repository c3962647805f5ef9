import { describe, expect, it } from 'vitest'
import { InjectedCrash } from '../../../devkit/memoryJobPorts.ts'
import { PlanMissing } from '../../../lib/jobs/errors.ts'
import { runFanOut } from '../../../lib/jobs/fanOut.ts'
import { offsetsKeyOf } from '../../../lib/jobs/plan.ts'
import { codesOf, expectCountedOnce, FAN_OUT_CHECK_SECONDS, jobsHarness, type JobsHarness } from './jobsHarness.ts'

const checkOf = (jobId: string) => JSON.stringify({ kind: 'fanOut', jobId, check: true })
const fannedOutWrites = (jobs: JobsHarness) => jobs.crash.writes.filter(({ point }) => point === 'store.fannedOut').map(({ subject }) => subject.replace(/^.*#/, ''))
const sentTimes = (jobs: JobsHarness) => {
  const times = new Map<number, number>()
  for (const { chunk, part } of jobs.chunksSent()) if (part === 0) times.set(chunk, (times.get(chunk) ?? 0) + 1)
  return times
}

/** A job of `chunks` one-code chunks whose planner died just after the fan-out's first checkpoint (100 chunks sent). */
async function stoppedFanOut(chunks: number) {
  const jobs = jobsHarness({ chunkSize: 1 })
  jobs.crash.at('store.fannedOut', 'after', 1)
  await expect(jobs.start({ codes: codesOf('x', chunks) })).rejects.toBeInstanceOf(InjectedCrash)
  const [job] = await jobs.store.recent(1)
  if (job === undefined) throw new Error('the planner stored no job')
  return { jobs, jobId: job.jobId }
}

describe('Function: sendChunks (the planner\'s fan-out)', () => {
  it('sends the chunks in groups of 100, noting after each group how far it got', async () => {
    const jobs = jobsHarness({ chunkSize: 1 })

    const accepted = await jobs.start({ codes: codesOf('g', 250) })

    expect(fannedOutWrites(jobs)).toEqual(['100', '200', '250'])
    expect(jobs.crash.writes.slice(4, 105).map(({ point }) => point)).toEqual([...Array<string>(100).fill('queue.send'), 'store.fannedOut'])
    expect(jobs.chunksSent().map(({ chunk }) => chunk)).toEqual(codesOf('', 250).map(Number))
    expect(await jobs.record(accepted.jobId)).toMatchObject({ chunksSent: 250, chunks: 250 })
  })
})

describe('Function: runFanOut', () => {
  it('sets a check whose fan-out is alive to check again later, sending nothing; once the fan-out is stale, the check takes it up from its checkpoint', async () => {
    const { jobs, jobId } = await stoppedFanOut(350)
    const sentBefore = jobs.queue.sent.length

    const alive = await jobs.run(checkOf(jobId))
    const rearmed = jobs.queue.sent.slice(sentBefore).map((body) => JSON.parse(body) as unknown)
    jobs.clock.advance(FAN_OUT_CHECK_SECONDS)
    const stale = await jobs.run(checkOf(jobId))

    expect(alive).toEqual({ kind: 'done', jobId, what: 'fan-out alive at chunk 100 of 350: checked again later' })
    expect(rearmed).toEqual([{ kind: 'fanOut', jobId, check: true }])
    expect(jobs.queue.waiting.filter((body) => body === checkOf(jobId)).length).toBeGreaterThanOrEqual(2)
    expect(stale).toEqual({ kind: 'done', jobId, what: 'chunks 100 to 349 sent' })
    const times = sentTimes(jobs)
    expect(times.size).toBe(350)
    expect([...times.values()].every((sent) => sent === 1)).toBe(true)
    expect(await jobs.record(jobId)).toMatchObject({ chunksSent: 350 })
  })

  it('takes the fan-out up at once on a message that is not a check (a fan-out handed on), however recent its progress', async () => {
    const { jobs, jobId } = await stoppedFanOut(150)

    const taken = await jobs.run(JSON.stringify({ kind: 'fanOut', jobId, check: false }))

    expect(taken).toEqual({ kind: 'done', jobId, what: 'chunks 100 to 149 sent' })
    const times = sentTimes(jobs)
    expect(times.size).toBe(150)
    expect([...times.values()].every((sent) => sent === 1)).toBe(true)
    expect(await jobs.record(jobId)).toMatchObject({ chunksSent: 150 })
  })

  it('counts every code once when two runs take the same fan-out up at once: each chunk sent at most twice, the checkpoint never back', async () => {
    const { jobs, jobId } = await stoppedFanOut(150)

    await Promise.all([jobs.run(JSON.stringify({ kind: 'fanOut', jobId, check: false })), jobs.run(JSON.stringify({ kind: 'fanOut', jobId, check: false }))])
    await jobs.deliverAll()

    expect(await jobs.record(jobId)).toMatchObject({ chunksSent: 150 })
    expect([...sentTimes(jobs).values()].every((sent) => sent <= 2)).toBe(true)
    expectCountedOnce(await jobs.status(jobId))
    expect(jobs.store.recordedParts(jobId)).toHaveLength(150)
    expect(jobs.origin.requests).toHaveLength(150)
  })

  it('ends its checks once every chunk is sent', async () => {
    const jobs = jobsHarness({ chunkSize: 5 })
    const accepted = await jobs.start({ codes: codesOf('e', 10) })
    const sent = jobs.queue.sent.length
    jobs.clock.advance(FAN_OUT_CHECK_SECONDS)

    expect(await jobs.run(checkOf(accepted.jobId))).toEqual({ kind: 'done', jobId: accepted.jobId, what: 'every chunk sent before' })
    expect(jobs.queue.sent).toHaveLength(sent)
  })

  it('hands the rest to a fresh run when its time runs short, having sent and noted a group', async () => {
    const { jobs, jobId } = await stoppedFanOut(350)
    const left = [60_000, 1_000]

    const handedOn = await runFanOut({ kind: 'fanOut', jobId, check: false }, jobs.worker, () => left.shift() ?? 0)

    expect(handedOn).toEqual({ kind: 'done', jobId, what: 'handed on from chunk 200' })
    expect(await jobs.record(jobId)).toMatchObject({ chunksSent: 200 })
    expect(jobs.sent().at(-1)).toEqual({ kind: 'fanOut', jobId, check: false })
    expect(await jobs.run(JSON.stringify(jobs.sent().at(-1)))).toEqual({ kind: 'done', jobId, what: 'chunks 200 to 349 sent' })
    expect([...sentTimes(jobs).values()].every((sent) => sent === 1)).toBe(true)
    expect(sentTimes(jobs).size).toBe(350)
  })

  it('fails with PlanMissing when the offsets of its plan are gone, so that the message is tried again', async () => {
    const { jobs, jobId } = await stoppedFanOut(120)
    const job = await jobs.record(jobId)
    jobs.objects.objects.delete(offsetsKeyOf(job?.planKey ?? ''))
    jobs.clock.advance(FAN_OUT_CHECK_SECONDS)

    await expect(jobs.run(checkOf(jobId))).rejects.toBeInstanceOf(PlanMissing)
    expect(await jobs.record(jobId)).toMatchObject({ chunksSent: 100 })
  })

  it('sets no further check when its plan cannot be read: its deliveries and the dead-letter queue end it, rather than checks multiplying', async () => {
    const { jobs, jobId } = await stoppedFanOut(120)
    const job = await jobs.record(jobId)
    jobs.objects.objects.delete(offsetsKeyOf(job?.planKey ?? ''))

    // Bounded: were a check set before the plan is read, each failed try would set another.
    const errors = await jobs.deliverAll(3, {}, 200)

    expect(errors.map((error) => (error as Error).name)).toEqual(Array<string>(6).fill('PlanMissing'))
    expect(jobs.queue.waiting).toEqual([])
    expect(jobs.sent().filter(({ kind }) => kind === 'fanOut')).toHaveLength(1)
    expect(await jobs.status(jobId)).toMatchObject({ chunksDone: 100, state: 'running' })
  })
})
