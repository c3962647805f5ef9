import { describe, expect, it } from 'vitest'
import { ImgpullError } from '../../../lib/errors.ts'
import { DownloadError, TransportError } from '../../../lib/download/errors.ts'

describe('Class: DownloadError', () => {
  it('is an ImgpullError named DownloadError, with its reason, retryability, status and cause', () => {
    const cause = new Error('socket hang up')
    const error = new DownloadError('http_503', 'origin answered HTTP 503', { retryable: true, httpStatus: 503, retryAfterMs: 2000, cause })
    expect(error).toBeInstanceOf(ImgpullError)
    expect(error).toMatchObject({ name: 'DownloadError', reason: 'http_503', retryable: true, httpStatus: 503, retryAfterMs: 2000, cause })
  })

  it('is final, with no status and no cause, unless told otherwise', () => {
    const error = new DownloadError('not_image', 'body is not an image')
    expect(error).toMatchObject({ retryable: false, httpStatus: undefined, retryAfterMs: undefined })
    expect('cause' in error).toBe(false)
  })
})

describe('Class: TransportError', () => {
  it('is an ImgpullError named TransportError, with its reason and cause', () => {
    const cause = new Error('ECONNRESET')
    const error = new TransportError('reset', 'connection reset', { cause })
    expect(error).toBeInstanceOf(ImgpullError)
    expect(error).toMatchObject({ name: 'TransportError', reason: 'reset', message: 'connection reset', cause })
  })
})
