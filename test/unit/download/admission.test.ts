import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { needBeforeReading, requestAdmissions, settleBeforeReading } from '../../../lib/download/admission.ts'
import type { AttemptClock } from '../../../lib/download/attemptClock.ts'
import type { Admission } from '../../../lib/download/budget.ts'

const MiB = 1024 * 1024
const never = new AbortController().signal

/** Whether a promise has settled by the time queued callbacks have run. */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  await new Promise((resolve) => setImmediate(resolve))
  return settled
}

/** A clock that only counts the waits it was paused for. */
function pausingClock(): AttemptClock & { pauses: number } {
  const clock = {
    pauses: 0,
    signal: never,
    async paused<T>(wait: () => Promise<T>): Promise<T> {
      clock.pauses += 1
      return wait()
    },
    stop: () => undefined,
  }
  return clock
}

describe('Function: requestAdmissions', () => {
  it('admits requests with 1 MiB each before any body has told its size', async () => {
    // 4 MiB, of which 1 MiB is kept free for a stream: three requests of 1 MiB at once.
    const admissions = requestAdmissions(4 * MiB, MiB)
    await Promise.all([admissions.admit(never), admissions.admit(never), admissions.admit(never)])
    expect(await hasSettled(admissions.admit(never))).toBe(false)
  })

  it('admits the next requests with the most a body of the run has needed', async () => {
    const admissions = requestAdmissions(4 * MiB, MiB)
    admissions.noteNeed(2 * MiB)
    admissions.noteNeed(MiB)
    const first = await admissions.admit(never)
    const second = admissions.admit(never)
    expect(await hasSettled(second)).toBe(false)
    first.release()
    expect(await hasSettled(second)).toBe(true)
  })
})

describe('Function: needBeforeReading', () => {
  it.each([
    ['a body of unknown length, as one part', undefined, 5 * MiB],
    ['a body within one part, as it is', 20_000, 20_000],
    ['a body of exactly one part, as it is', 5 * MiB, 5 * MiB],
    ['a body past one part, as what a stream holds', 5 * MiB + 1, 15 * MiB],
  ])('settles %s', (_case, contentLength, bytes) => {
    expect(needBeforeReading(contentLength, 5 * MiB, 15 * MiB)).toBe(bytes)
  })
})

describe('Function: settleBeforeReading', () => {
  it('settles the admission with the attempt clock paused, and leaves the body open', async () => {
    const settled: number[] = []
    const admission: Admission = { settle: async (bytes) => void settled.push(bytes), release: () => undefined }
    const clock = pausingClock()
    const body = Readable.from([Buffer.from('x')])

    await settleBeforeReading(admission, 300, clock, never, body)

    expect(settled).toEqual([300])
    expect(clock.pauses).toBe(1)
    expect(body.destroyed).toBe(false)
  })

  it('destroys the body, closing its request, when the wait for memory fails', async () => {
    const admission: Admission = { settle: () => Promise.reject(new Error('deadline')), release: () => undefined }
    const body = Readable.from([Buffer.from('x')])

    await expect(settleBeforeReading(admission, 300, pausingClock(), never, body)).rejects.toThrow('deadline')
    expect(body.destroyed).toBe(true)
  })
})
