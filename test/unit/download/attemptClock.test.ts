import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { attemptClock } from '../../../lib/download/attemptClock.ts'

describe('Function: attemptClock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('aborts its signal once the attempt has taken its time', () => {
    const clock = attemptClock(1000)
    vi.advanceTimersByTime(999)
    expect(clock.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(clock.signal.aborted).toBe(true)
  })

  it('does not count the time of a paused wait, and goes on with the time it had left', async () => {
    const clock = attemptClock(1000)
    vi.advanceTimersByTime(600)
    await clock.paused(async () => {
      vi.advanceTimersByTime(5000)
    })
    expect(clock.signal.aborted).toBe(false)
    vi.advanceTimersByTime(399)
    expect(clock.signal.aborted).toBe(false)
    vi.advanceTimersByTime(1)
    expect(clock.signal.aborted).toBe(true)
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
