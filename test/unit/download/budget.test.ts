import { describe, expect, it } from 'vitest'
import { byteBudget } from '../../../lib/download/budget.ts'

const never = new AbortController().signal

/** Whether a promise has settled by the time queued callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true), () => (done = true))
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('Function: byteBudget', () => {
  it('admits while the estimates fit beside the headroom, and the next when bytes are given back', async () => {
    const budget = byteBudget(100, 30)
    const first = await budget.admit(40, never)
    await budget.admit(30, never)
    const third = budget.admit(10, never)
    expect(await settled(third)).toBe(false)
    first.release()
    expect(await settled(third)).toBe(true)
  })

  it('lets one download through alone, however large', async () => {
    const budget = byteBudget(100, 30)
    const alone = await budget.admit(500, never)
    expect(await settled(budget.admit(1, never))).toBe(false)
    alone.release()
  })

  it('gives back at once what a body needs less than admitted, and lets a body that needs more grow ahead of new admissions', async () => {
    const budget = byteBudget(100, 30)
    const a = await budget.admit(35, never)
    const b = await budget.admit(35, never)
    await a.settle(5, never)
    const growing = b.settle(90, never)
    const waiting = budget.admit(10, never)
    expect(await settled(growing)).toBe(true)
    expect(await settled(waiting)).toBe(false)
    b.release()
    expect(await settled(waiting)).toBe(true)
  })

  it('gives up a wait to grow when its admission is released, and takes nothing after', async () => {
    const budget = byteBudget(100, 0)
    const full = await budget.admit(90, never)
    const small = await budget.admit(10, never)
    const growing = small.settle(50, never)
    small.release()
    await expect(growing).rejects.toThrow('released')
    full.release()
    // All 100 bytes are free again: nothing was taken for the abandoned growth.
    expect(await settled(budget.admit(100, never))).toBe(true)
  })

  it('rejects a waiting admission when its signal aborts, and lets the next one in', async () => {
    const budget = byteBudget(100, 0)
    const full = await budget.admit(100, never)
    const caller = new AbortController()
    const aborted = budget.admit(10, caller.signal)
    caller.abort(new Error('deadline'))
    await expect(aborted).rejects.toThrow('deadline')
    full.release()
    await expect(budget.admit(100, never)).resolves.toBeDefined()
  })
})
