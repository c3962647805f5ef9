import { describe, expect, it } from 'vitest'
import { imageRequest } from '../../../lib/download/imageRequest.ts'

describe('Function: imageRequest', () => {
  it('asks for the image unconditionally when no stored copy is known, with no validators key at all', () => {
    const request = imageRequest('https://origin.test/a.jpg', undefined, new AbortController().signal, new AbortController().signal)
    expect(request.url).toBe('https://origin.test/a.jpg')
    expect('validators' in request).toBe(false)
  })

  it("makes the request conditional on the stored copy's validators", () => {
    const validators = { etag: '"v1"' }
    const request = imageRequest('https://origin.test/a.jpg', validators, new AbortController().signal, new AbortController().signal)
    expect(request.validators).toEqual(validators)
  })

  it.each(['run', 'clock'])('is cut short when the %s aborts', (which) => {
    const run = new AbortController()
    const clock = new AbortController()
    const request = imageRequest('https://origin.test/a.jpg', undefined, run.signal, clock.signal)
    expect(request.signal.aborted).toBe(false)
    ;(which === 'run' ? run : clock).abort()
    expect(request.signal.aborted).toBe(true)
  })
})
