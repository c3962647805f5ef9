import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import { chunkMessage, parseJobMessage } from '../../../lib/jobs/messages.ts'

describe('Function: chunkMessage', () => {
  it('names the part 0 of a chunk at its line of the plan, and no codes', () => {
    expect(chunkMessage('job-1', 1, [0, 25, 51])).toEqual({ kind: 'chunk', jobId: 'job-1', chunk: 1, part: 0, start: 25, end: 51 })
  })
})

describe('Function: parseJobMessage', () => {
  it('reads back every kind of message the jobs send', () => {
    const messages = [chunkMessage('job-1', 0, [0, 25]), { kind: 'chunk', jobId: 'job-1', chunk: 4, part: 2, start: 100, end: 130 }, { kind: 'fanOut', jobId: 'job-1', check: true }, { kind: 'finish', jobId: 'job-1' }]

    for (const message of messages) expect(parseJobMessage(JSON.stringify(message))).toEqual(message)
  })

  it('keeps only the fields of the message\'s kind, whatever else a body carries', () => {
    expect(parseJobMessage('{"kind":"finish","jobId":"j","codes":["x"]}')).toEqual({ kind: 'finish', jobId: 'j' })
  })

  it('refuses a body that is not JSON or not a job message, naming the field', () => {
    expect(() => parseJobMessage('{')).toThrow(new ValidationError('job message is not JSON'))
    expect(() => parseJobMessage('{"kind":"chunk","jobId":"j","chunk":-1,"part":0,"start":0,"end":1}')).toThrow(/^not a job message: chunk/)
    expect(() => parseJobMessage('{"kind":"chunk","jobId":"j","chunk":1.5,"part":0,"start":0,"end":1}')).toThrow(/^not a job message: chunk/)
    expect(() => parseJobMessage('{"kind":"fanOut","jobId":"j"}')).toThrow(/^not a job message: check/)
    expect(() => parseJobMessage('{"kind":"other","jobId":"j"}')).toThrow(ValidationError)
    expect(() => parseJobMessage('{"jobId":"j","chunk":0}')).toThrow(ValidationError)
  })
})
