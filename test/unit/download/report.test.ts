import { describe, expect, it } from 'vitest'
import { DownloadError } from '../../../lib/download/errors.ts'
import { codeFailure } from '../../../lib/download/report.ts'

describe('Function: codeFailure', () => {
  it('reports a not_found failure under the not_found status, with the HTTP status', () => {
    expect(codeFailure('a', new DownloadError('not_found', 'not found', { httpStatus: 404 }), 1)).toEqual({
      code: 'a',
      status: 'not_found',
      reason: 'not_found',
      attempts: 1,
      httpStatus: 404,
      message: 'not found',
    })
  })

  it('reports every other failure as error, with no httpStatus key when there was no answer', () => {
    const failure = codeFailure('b', new DownloadError('network', 'origin: ECONNREFUSED'), 3)
    expect(failure).toEqual({ code: 'b', status: 'error', reason: 'network', attempts: 3, message: 'origin: ECONNREFUSED' })
    expect('httpStatus' in failure).toBe(false)
  })

  it('takes the message given over the failure’s own, and clips it to 300 characters', () => {
    const failure = codeFailure('c', new DownloadError('blocked', 'redirect refused'), 1, `redirect to ${'x'.repeat(400)}`)
    expect(failure.message).toHaveLength(300)
    expect(failure.message.endsWith('…')).toBe(true)
  })
})
