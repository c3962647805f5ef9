import { describe, expect, it } from 'vitest'
import { chunkCodesOf, offsetsKeyOf, parseOffsets, planChunks, planKeys } from '../../../lib/jobs/plan.ts'

const plan = { codes: ['a', 'b', 'c', 'd', 'e'], duplicates: 0, baseUrl: 'https://img.example', concurrency: 4, prefix: 'flags/', force: false }

const linesOf = (codes: readonly string[], chunkSize: number) => planChunks({ ...plan, codes: [...codes] }, chunkSize).lines.map((line) => JSON.parse(line) as unknown)

describe('Function: planChunks', () => {
  it('cuts the codes, in the order of their keys, into numbered chunks', () => {
    expect(linesOf(['b10', 'B2', 'a', 'b1'], 2)).toEqual([
      { chunk: 0, codes: ['a', 'b1'] },
      { chunk: 1, codes: ['b10', 'B2'] },
    ])
  })

  it('numbers the chunks, the last holding what is left', () => {
    expect(linesOf(plan.codes, 2)).toEqual([
      { chunk: 0, codes: ['a', 'b'] },
      { chunk: 1, codes: ['c', 'd'] },
      { chunk: 2, codes: ['e'] },
    ])
  })

  it('gives the byte offset of every line and the plan\'s length last, counting each line\'s break and its multi-byte characters', () => {
    const { lines, offsets } = planChunks({ ...plan, codes: ['é1', 'b'] }, 1)
    const text = lines.map((line) => `${line}\n`).join('')
    const bytes = Buffer.from(text)

    expect(offsets).toHaveLength(3)
    expect(offsets.at(-1)).toBe(bytes.length)
    expect(bytes.subarray(offsets[1], offsets[2]).toString()).toBe(`${lines[1] ?? ''}\n`)
    expect(chunkCodesOf(bytes.subarray(offsets[0], offsets[1]).toString(), 0)).toEqual(['b'])
  })
})

describe('Function: planKeys', () => {
  it('keeps a plan and its offsets under the job, named by the plan\'s id, the offsets found from the plan\'s key', () => {
    const keys = planKeys('plans/', 'job-1', 'plan-1')

    expect(keys).toEqual({ plan: 'plans/job-1/plan-1.jsonl', offsets: 'plans/job-1/plan-1.offsets.json' })
    expect(offsetsKeyOf(keys.plan)).toBe(keys.offsets)
  })
})

describe('Function: chunkCodesOf', () => {
  it('reads the codes of the chunk\'s line, its line break or not', () => {
    expect(chunkCodesOf('{"chunk":3,"codes":["a","b"]}\n', 3)).toEqual(['a', 'b'])
    expect(chunkCodesOf('{"chunk":3,"codes":["a","b"]}', 3)).toEqual(['a', 'b'])
  })

  it.each([
    ['another chunk\'s line', '{"chunk":2,"codes":["a"]}'],
    ['part of a line', '"chunk":3,"codes":["a"]}'],
    ['two lines', '{"chunk":3,"codes":["a"]}\n{"chunk":4,"codes":["b"]}\n'],
    ['a line without codes', '{"chunk":3}'],
    ['codes that are not strings', '{"chunk":3,"codes":[1]}'],
  ])('has none for %s', (_name, text) => {
    expect(chunkCodesOf(text, 3)).toBeUndefined()
  })
})

describe('Function: parseOffsets', () => {
  it('reads back stored offsets and throws on anything else', () => {
    expect(parseOffsets('[0,25,51]')).toEqual([0, 25, 51])
    expect(() => parseOffsets('[0,-1]')).toThrow()
    expect(() => parseOffsets('{')).toThrow()
  })
})
