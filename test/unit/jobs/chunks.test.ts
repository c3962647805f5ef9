import { describe, expect, it } from 'vitest'
import { chunkMessages, parseChunkMessage } from '../../../lib/jobs/chunks.ts'

const plan = { codes: ['a', 'b', 'c', 'd', 'e'], duplicates: 0, baseUrl: 'https://img.example', concurrency: 4, prefix: 'flags/', force: false }

describe('Function: chunkMessages', () => {
  it('cuts the codes, in the order of their keys, into numbered chunks that each carry the download fields', () => {
    const messages = chunkMessages('job-1', { ...plan, codes: ['b10', 'B2', 'a', 'b1'] }, 2)
    expect(messages.map((message) => message.codes)).toEqual([
      ['a', 'b1'],
      ['b10', 'B2'],
    ])
  })

  it('numbers the chunks and gives each the download fields', () => {
    const messages = chunkMessages('job-1', plan, 2)
    expect(messages.map((message) => [message.chunk, message.codes])).toEqual([
      [0, ['a', 'b']],
      [1, ['c', 'd']],
      [2, ['e']],
    ])
    expect(messages[2]).toEqual({ jobId: 'job-1', chunk: 2, codes: ['e'], baseUrl: 'https://img.example', concurrency: 4, prefix: 'flags/', force: false })
  })
})

describe('Function: parseChunkMessage', () => {
  it('reads back what chunkMessages sends', () => {
    const [message] = chunkMessages('job-1', plan, 10)
    expect(parseChunkMessage(JSON.stringify(message))).toEqual(message)
  })

  it('refuses a body that is not JSON or not a chunk', () => {
    expect(() => parseChunkMessage('{')).toThrow('chunk message is not JSON')
    expect(() => parseChunkMessage('{"jobId":"j","chunk":-1}')).toThrow(/^chunk message is not a chunk: chunk/)
  })
})
