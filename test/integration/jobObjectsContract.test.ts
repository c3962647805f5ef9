import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { memoryJobObjects } from '../../devkit/memoryJobPorts.ts'
import { pass, startS3FaultProxy } from '../../devkit/s3FaultProxy.ts'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { JOB_OBJECT_PART_BYTES, s3JobObjects } from '../../lib/adapters/s3/jobObjects.ts'
import { ObjectTooShort } from '../../lib/jobs/errors.ts'
import type { JobObjects } from '../../lib/jobs/ports.ts'
import { useIntegrationServers } from '../support/localS3.ts'

// The same cases through the bucket the unit tests fake and through the S3 adapter on the local
// S3: the fake is only as good as its agreement with S3.

const servers = useIntegrationServers()

/** The objects under test, and a switch that makes S3 refuse (or the fake fail) every write of a key. */
interface Subject {
  readonly objects: JobObjects
  readonly refuseWrites: (key: string) => void
  readonly allowWrites: (key: string) => void
}

function inMemory(): Subject {
  const objects = memoryJobObjects()
  return {
    objects,
    refuseWrites: (key) => objects.failWrites(key, Number.POSITIVE_INFINITY),
    allowWrites: (key) => objects.failWrites(key, 0),
  }
}

/** The adapter through a proxy that answers 503 SlowDown to every upload (PUT) of a refused key. */
async function throughS3(): Promise<Subject> {
  const refused = new Set<string>()
  const pathOf = (key: string) => `/${servers.s3.bucket}/${key}`
  const proxy = servers.track(
    await startS3FaultProxy(servers.s3.endpoint, (method, url) =>
      method === 'PUT' && refused.has(new URL(url, 'http://s3.test').pathname) ? { kind: 'status', status: 503, code: 'SlowDown' } : pass,
    ),
  )
  const client = createS3Client({ localEndpoint: proxy.endpoint })
  servers.track({ close: async () => client.destroy() })
  return {
    objects: s3JobObjects(client, servers.s3.bucket),
    refuseWrites: (key) => refused.add(pathOf(key)),
    allowWrites: (key) => refused.delete(pathOf(key)),
  }
}

async function* linesOf(lines: Iterable<string>): AsyncGenerator<string> {
  yield* lines
}

/** Lines of a plan (JSON, a chunk each), `bytes` of them or a little more; the same every time. */
function* planLines(bytes: number): Generator<string> {
  let written = 0
  for (let chunk = 0; written < bytes; chunk += 1) {
    const line = JSON.stringify({ chunk, codes: Array.from({ length: 8 }, (_, i) => `c${chunk * 8 + i}`), note: chunk % 7 === 0 ? 'café 日本 🙂' : 'plain' })
    written += Buffer.byteLength(line) + 1
    yield line
  }
}

/** Where each line lies in the object written from `lines`: [start, end) without its '\n'. */
function rangesOf(lines: readonly string[]): [number, number][] {
  let offset = 0
  return lines.map((line) => {
    const start = offset
    offset += Buffer.byteLength(line) + 1
    return [start, offset - 1]
  })
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex')

const PLAN = [
  JSON.stringify({ chunk: 0, codes: ['a', 'b'] }),
  JSON.stringify({ chunk: 1, codes: ['café', 'naïve', '日本語'] }),
  JSON.stringify({ chunk: 2, codes: ['🙂', 'z'] }),
]

describe.each([
  ['in memory', async () => inMemory()],
  ['S3', throughS3],
])('JobObjects contract: %s', (name, subject) => {
  const prefix = `contract/${name === 'S3' ? 's3' : 'memory'}/`

  it('reads the first line of a plan by its byte range, with or without its line break', async () => {
    const { objects } = await subject()
    await objects.writeLines(`${prefix}first.jsonl`, linesOf(PLAN), 'application/x-ndjson')
    const [[start, end]] = rangesOf(PLAN) as [[number, number]]

    expect(await objects.readRange(`${prefix}first.jsonl`, start, end)).toBe(PLAN[0])
    expect(await objects.readRange(`${prefix}first.jsonl`, start, end + 1)).toBe(`${PLAN[0]}\n`)
  })

  it('reads a middle line of multi-byte characters whole, its range counted in bytes', async () => {
    const { objects } = await subject()
    await objects.writeLines(`${prefix}middle.jsonl`, linesOf(PLAN), 'application/x-ndjson')
    const ranges = rangesOf(PLAN)

    expect(await objects.readRange(`${prefix}middle.jsonl`, ...ranges[1]!)).toBe(PLAN[1])
    expect(JSON.parse((await objects.readRange(`${prefix}middle.jsonl`, ...ranges[2]!))!)).toEqual({ chunk: 2, codes: ['🙂', 'z'] })
    // Counted in characters, the range would fall short of the line.
    expect(PLAN[1]!.length).toBeLessThan(ranges[1]![1] - ranges[1]![0])
  })

  it('reads no range of a missing object', async () => {
    const { objects } = await subject()

    expect(await objects.readRange(`${prefix}none.jsonl`, 0, 10)).toBeUndefined()
  })

  it('refuses a range past the end of the object with ObjectTooShort, whether it starts inside or after it', async () => {
    const { objects } = await subject()
    await objects.writeText(`${prefix}short.txt`, '0123456789', 'text/plain')

    await expect(objects.readRange(`${prefix}short.txt`, 5, 11)).rejects.toBeInstanceOf(ObjectTooShort)
    await expect(objects.readRange(`${prefix}short.txt`, 10, 20)).rejects.toBeInstanceOf(ObjectTooShort)
    expect(await objects.readRange(`${prefix}short.txt`, 5, 10)).toBe('56789')
  })

  it('refuses an empty, reversed, negative or fractional range with a RangeError before asking', async () => {
    const { objects } = await subject()

    for (const [start, end] of [
      [3, 3],
      [4, 3],
      [-1, 3],
      [0.5, 3],
    ] as const) {
      await expect(objects.readRange(`${prefix}none.jsonl`, start, end), `[${start}, ${end})`).rejects.toBeInstanceOf(RangeError)
    }
  })

  it('writes a few lines as they were given, each followed by a line break, and counts their bytes', async () => {
    const { objects } = await subject()

    const written = await objects.writeLines(`${prefix}small.csv`, linesOf(['code,status', 'é,error', '', 'last']), 'text/csv; charset=utf-8')

    const text = 'code,status\né,error\n\nlast\n'
    expect(written).toEqual({ bytes: Buffer.byteLength(text) })
    expect(await objects.readText(`${prefix}small.csv`, 1024)).toBe(text)
  })

  it('writes more than a part of lines byte for byte, a line across the parts read whole', async () => {
    const { objects } = await subject()
    const lines = [...planLines(2 * JOB_OBJECT_PART_BYTES + 12_345)]
    const expected = `${lines.join('\n')}\n`

    const written = await objects.writeLines(`${prefix}large.jsonl`, linesOf(lines), 'application/x-ndjson')

    expect(written.bytes).toBe(Buffer.byteLength(expected))
    expect(sha256(Buffer.from((await objects.readText(`${prefix}large.jsonl`, written.bytes))!, 'utf8'))).toBe(sha256(expected))
    const ranges = rangesOf(lines)
    const across = ranges.findIndex(([start, end]) => start < JOB_OBJECT_PART_BYTES && end >= JOB_OBJECT_PART_BYTES)
    expect(await objects.readRange(`${prefix}large.jsonl`, ...ranges[across]!)).toBe(lines[across])
    expect(await objects.readRange(`${prefix}large.jsonl`, ...ranges.at(-1)!)).toBe(lines.at(-1))
  })

  it('writes an empty object from no lines', async () => {
    const { objects } = await subject()

    const written = await objects.writeLines(`${prefix}empty.csv`, linesOf([]), 'text/csv; charset=utf-8')

    expect(written).toEqual({ bytes: 0 })
    expect(await objects.readText(`${prefix}empty.csv`, 1024)).toBe('')
  })

  it('keeps the object there was when the lines of a write fail, more than a part in', async () => {
    const { objects } = await subject()
    await objects.writeText(`${prefix}kept.csv`, 'before\n', 'text/csv; charset=utf-8')
    async function* failing() {
      yield* planLines(JOB_OBJECT_PART_BYTES + 1000)
      throw new Error('the failures could not be read')
    }

    await expect(objects.writeLines(`${prefix}kept.csv`, failing(), 'text/csv; charset=utf-8')).rejects.toThrow('the failures could not be read')

    expect(await objects.readText(`${prefix}kept.csv`, 1024)).toBe('before\n')
  })

  it('stores nothing while its writes are refused, then the same write whole once they are not', async () => {
    const { objects, refuseWrites, allowWrites } = await subject()
    const key = `${prefix}refused.jsonl`
    refuseWrites(key)

    await expect(objects.writeLines(key, linesOf(PLAN), 'application/x-ndjson')).rejects.toThrow()
    await expect(objects.writeLines(key, linesOf(planLines(JOB_OBJECT_PART_BYTES + 1000)), 'application/x-ndjson')).rejects.toThrow()
    expect(await objects.readRange(key, 0, 1)).toBeUndefined()
    allowWrites(key)
    const written = await objects.writeLines(key, linesOf(PLAN), 'application/x-ndjson')

    expect(await objects.readText(key, 1024)).toBe(`${PLAN.join('\n')}\n`)
    expect(written.bytes).toBe(Buffer.byteLength(`${PLAN.join('\n')}\n`))
  })
})
