import { describe, expect, it } from 'vitest'
import { attemptFailure, storeStepFailure, streamedUploadFailure } from '../../../lib/download/blame.ts'
import { DownloadError, TransportError } from '../../../lib/download/errors.ts'

const running = () => new AbortController().signal
const aborted = () => AbortSignal.abort(new Error('deadline'))

describe('Function: attemptFailure', () => {
  it("blames an origin cut off by the attempt's own clock for being too slow, whatever its client said", () => {
    const cause = new TransportError('reset', 'socket hang up')
    const failure = attemptFailure(cause, aborted(), running(), 3000)
    expect(failure).toMatchObject({ reason: 'timeout', retryable: true, message: 'origin: attempt took longer than 3000 ms', cause })
  })

  it('passes on what the origin failed with when the run, not the clock, cut it short', () => {
    const failure = attemptFailure(new TransportError('reset', 'socket hang up'), aborted(), aborted(), 3000)
    expect(failure).toMatchObject({ reason: 'reset', retryable: true })
  })

  it('keeps a DownloadError as it is, and counts an unknown error as a network failure', () => {
    const notImage = new DownloadError('not_image', 'body is not an image')
    expect(attemptFailure(notImage, running(), running(), 3000)).toBe(notImage)
    expect(attemptFailure(new Error('ECONNREFUSED'), running(), running(), 3000)).toMatchObject({ reason: 'network', retryable: true })
  })
})

describe('Function: storeStepFailure', () => {
  it('counts a look-up or upload the deadline cut short as deadline', () => {
    expect(storeStepFailure(new Error('aborted'), aborted())).toMatchObject({ reason: 'deadline', message: 'deadline' })
  })

  it("counts any other as the store's final failure, with its message", () => {
    expect(storeStepFailure(new Error('Access Denied'), running())).toMatchObject({ reason: 's3', retryable: false, message: 'store: Access Denied' })
  })
})

describe('Function: streamedUploadFailure', () => {
  it('blames the origin when its body broke mid-stream, however the upload failed', () => {
    const broken = new DownloadError('truncated', 'body has 10 bytes, Content-Length promised 20', { retryable: true })
    expect(streamedUploadFailure(new Error('upload aborted'), broken)).toBe(broken)
  })

  it('blames the store when the body was whole', () => {
    expect(streamedUploadFailure(new Error('SlowDown'), undefined)).toMatchObject({ reason: 's3', message: 'store: SlowDown' })
  })
})
