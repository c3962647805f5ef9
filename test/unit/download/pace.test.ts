import { describe, expect, it } from 'vitest'
import { codePace } from '../../../lib/download/pace.ts'

describe('Function: codePace', () => {
  it('expects nothing of a code before any has finished', () => {
    expect(codePace().typicalMs()).toBe(0)
  })

  it('takes the mean time of the codes finished, stored or failed', () => {
    const pace = codePace()
    pace.record({ status: 'ok', unchanged: false, bytes: 10 }, 100)
    pace.record({ code: 'b', status: 'error', reason: 'http_500', attempts: 3, message: 'origin answered HTTP 500' }, 300)
    expect(pace.typicalMs()).toBe(200)
  })

  it('leaves out codes the deadline cut short, which say nothing about how long a download takes', () => {
    const pace = codePace()
    pace.record({ status: 'ok', unchanged: true, bytes: 0 }, 50)
    pace.record({ code: 'c', status: 'error', reason: 'deadline', attempts: 1, message: 'deadline' }, 5000)
    expect(pace.typicalMs()).toBe(50)
  })
})
