import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { attemptClock, type AttemptClock } from '../../../lib/download/attemptClock.ts'

/** Moves the fake time on by `ms`, and expects the clock to abort at its very end, not a millisecond before. */
function expectAbortAfter(clock: AttemptClock, ms: number): void {
  vi.advanceTimersByTime(ms - 1)
  expect(clock.signal.aborted).toBe(false)
  vi.advanceTimersByTime(1)
  expect(clock.signal.aborted).toBe(true)
}

describe('Function: attemptClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('aborts its signal once the attempt has taken its time', () => {
    expectAbortAfter(attemptClock(1000), 1000)
  })

  it('does not count the time of a paused wait, and goes on with the time it had left', async () => {
    const clock = attemptClock(1000)
    vi.advanceTimersByTime(600)
    await clock.paused(async () => {
      vi.advanceTimersByTime(5000)
    })
    expectAbortAfter(clock, 400)
  })

  it('passes on what the paused wait returns or throws', async () => {
    const clock = attemptClock(1000)
    await expect(clock.paused(async () => 'settled')).resolves.toBe('settled')
    await expect(clock.paused(() => Promise.reject(new Error('aborted')))).rejects.toThrow('aborted')
    clock.stop()
  })

  it('never aborts once stopped, however long it then waits', () => {
    const clock = attemptClock(1000)
    clock.stop()
    clock.stop()
    vi.advanceTimersByTime(10_000)
    expect(clock.signal.aborted).toBe(false)
  })
})
