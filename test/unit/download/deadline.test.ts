import { describe, expect, it } from 'vitest'
import { startDeadline } from '../../../lib/download/deadline.ts'

describe('Function: startDeadline', () => {
  it('allows work only while more than the reserve plus its expected time is left', () => {
    let remaining = 10_000
    const deadline = startDeadline(() => remaining, 2000, undefined)
    expect(deadline.allowsStart(7999)).toBe(true)
    expect(deadline.allowsStart(8000)).toBe(false)
    remaining = 2000
    expect(deadline.allowsStart(0)).toBe(false)
    deadline.dispose()
  })

  it('aborts its signal once only the reserve is left', async () => {
    const deadline = startDeadline(() => 2010, 2000, undefined)
    await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true }))
    expect(deadline.signal.aborted).toBe(true)
    deadline.dispose()
  })

  it('aborts with the caller, and never on its own without a clock', () => {
    const caller = new AbortController()
    const deadline = startDeadline(undefined, 2000, caller.signal)
    expect(deadline.allowsStart(Number.MAX_SAFE_INTEGER)).toBe(true)
    caller.abort()
    expect(deadline.signal.aborted).toBe(true)
    expect(deadline.allowsStart(0)).toBe(false)
    deadline.dispose()
  })
})
