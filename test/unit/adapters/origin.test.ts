import { describe, expect, it } from 'vitest'
import { transportErrorOf } from '../../../lib/adapters/origin/httpImageSource.ts'
import { TransportError } from '../../../lib/download/errors.ts'

/** An error as undici raises it: a message and a code. */
function undiciError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code })
}

describe('Function: transportErrorOf', () => {
  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'headers', 'timeout'],
    ['UND_ERR_HEADERS_TIMEOUT', 'headers', 'timeout'],
    ['UND_ERR_BODY_TIMEOUT', 'body', 'timeout'],
    ['ECONNRESET', 'headers', 'reset'],
    ['EPIPE', 'body', 'reset'],
    ['UND_ERR_SOCKET', 'headers', 'reset'],
    ['UND_ERR_SOCKET', 'body', 'truncated'],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'body', 'truncated'],
    ['ECONNREFUSED', 'headers', 'network'],
    ['ENOTFOUND', 'headers', 'network'],
    ['HPE_INVALID_CONSTANT', 'headers', 'bad_response'],
  ] as const)('names %s in the %s as %s', (code, phase, reason) => {
    const named = transportErrorOf(undiciError(code), phase)
    expect(named).toBeInstanceOf(TransportError)
    expect(named).toMatchObject({ reason })
  })

  it('names an unrequested 100 Continue or upgrade a bad response', () => {
    expect(transportErrorOf(undiciError('UND_ERR_SOCKET', 'bad response'), 'headers')).toMatchObject({ reason: 'bad_response' })
    expect(transportErrorOf(undiciError('UND_ERR_SOCKET', 'bad upgrade'), 'headers')).toMatchObject({ reason: 'bad_response' })
  })

  it('passes an abort, and a refusal of the connection guard, on as they are', () => {
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' })
    expect(transportErrorOf(abort, 'body')).toBe(abort)
    const refusal = new TransportError('blocked', 'refused to connect')
    expect(transportErrorOf(new Error('connect failed', { cause: refusal }), 'headers')).toBe(refusal)
  })
})
