import { describe, expect, it } from 'vitest'
import { crashes, InjectedCrash, InjectedWriteFailure, memoryJobObjects, memoryJobQueue, memoryJobStore, QueueRefused } from '../../../devkit/memoryJobPorts.ts'
import { ObjectTooLarge, ObjectTooShort } from '../../../lib/jobs/errors.ts'
import { describeJobStoreContract, newJobOf, outcome } from '../../support/jobStoreContract.ts'
import type { JobMessage } from '../../../lib/jobs/messages.ts'

const AT = '2026-11-26T10:00:00.000Z'
const JOB_ID = '00000000-0000-4000-8000-000000000001'

const job = (chunks: number) => newJobOf(chunks, { jobId: JOB_ID })
const chunkMessage = (chunk: number): JobMessage => ({ kind: 'chunk', jobId: JOB_ID, chunk, part: 0, start: chunk * 10, end: chunk * 10 + 10 })
const chunkOf = (body: string) => (JSON.parse(body) as { chunk: number }).chunk

// What every JobStore promises, the DynamoDB one too (test/integration/jobStoreContract.test.ts).
describeJobStoreContract('in memory', () => memoryJobStore(), () => {
  const crash = crashes()
  return { store: memoryJobStore(crash), crashAtPart: (when) => crash.at('store.part', when) }
})

describe('Function: crashes', () => {
  it('fires once, at the nth write of its point, and logs every write made', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(job(3))
    crash.at('store.part', 'after', 2)

    await store.recordPart(JOB_ID, outcome(0, 10), AT)
    await expect(store.recordPart(JOB_ID, outcome(1, 10), AT)).rejects.toThrow(`crashed after store.part (${JOB_ID}#1.0)`)
    await store.recordPart(JOB_ID, outcome(2, 10), AT)

    expect(crash.armed).toBe(false)
    expect(crash.writes.map(({ point }) => point)).toEqual(['store.create', 'store.part', 'store.part', 'store.part'])
  })

  it('crashes after the nth write of any kind', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    crash.afterWrite(2)

    await store.create(job(1))
    await expect(store.recordPart(JOB_ID, outcome(0, 10), AT)).rejects.toBeInstanceOf(InjectedCrash)

    expect(crash.writes).toEqual([
      { point: 'store.create', subject: JOB_ID },
      { point: 'store.part', subject: `${JOB_ID}#0.0` },
    ])
  })
})

describe('Function: memoryJobQueue', () => {
  it('fails a whole send that holds a message it refuses, sending none of it', async () => {
    const queue = memoryJobQueue({ refuse: (sent) => (sent.kind === 'chunk' && sent.chunk === 1 ? 'QueueDoesNotExist' : undefined) })

    await expect(queue.send([chunkMessage(0), chunkMessage(1), chunkMessage(2)])).rejects.toThrow(new QueueRefused('QueueDoesNotExist'))
    await queue.send([chunkMessage(2)])

    expect(queue.sent.map(chunkOf)).toEqual([2])
  })

  it('keeps the messages sent before a crash in the middle of a send', async () => {
    const crash = crashes()
    const queue = memoryJobQueue({ crash })
    crash.at('queue.send', 'before', 3)

    await expect(queue.send([chunkMessage(0), chunkMessage(1), chunkMessage(2), chunkMessage(3)])).rejects.toBeInstanceOf(InjectedCrash)

    expect(queue.waiting).toHaveLength(2)
  })

  it('delivers a message again while its handler throws, then to the dead letters, at most maxReceiveCount times each', async () => {
    const queue = memoryJobQueue()
    await queue.send([chunkMessage(0), chunkMessage(1)])
    const handled: number[] = []
    const deadLetters: number[] = []

    const errors = await queue.deliver(
      async (body) => {
        handled.push(chunkOf(body))
        if (chunkOf(body) === 1) throw new Error('poison')
      },
      async (body) => {
        deadLetters.push(chunkOf(body))
      },
      3,
    )

    expect(handled).toEqual([0, 1, 1, 1])
    expect(deadLetters).toEqual([1])
    expect(errors).toHaveLength(3)
    expect(queue.waiting).toEqual([])
  })

  it('delivers a delayed message once no other is waiting, even one sent after it', async () => {
    const queue = memoryJobQueue()
    const check: JobMessage = { kind: 'fanOut', jobId: JOB_ID, check: true }
    await queue.send([check], 60)
    await queue.send([chunkMessage(0)])
    const handled: string[] = []

    await queue.deliver(
      async (body) => {
        handled.push(body)
        if (body.includes('"chunk":0')) await queue.send([chunkMessage(1)])
      },
      async () => undefined,
    )

    expect(handled.map((body) => (JSON.parse(body) as JobMessage).kind)).toEqual(['chunk', 'chunk', 'fanOut'])
  })

  it('stops after maxDeliveries messages, leaving the rest waiting', async () => {
    const queue = memoryJobQueue()
    await queue.send([chunkMessage(0), chunkMessage(1), chunkMessage(2)])

    await queue.deliver(async () => undefined, async () => undefined, 3, 2)

    expect(queue.waiting.map(chunkOf)).toEqual([2])
  })
})

describe('Function: memoryJobObjects', () => {
  it('reads an object whole, none for a missing key, and refuses one past maxBytes with ObjectTooLarge', async () => {
    const objects = memoryJobObjects({ 'manifests/a.txt': 'a\nb\n' })

    expect(await objects.readText('manifests/a.txt', 4)).toBe('a\nb\n')
    expect(await objects.readText('manifests/none.txt', 4)).toBeUndefined()
    await expect(objects.readText('manifests/a.txt', 3)).rejects.toBeInstanceOf(ObjectTooLarge)
  })

  it('reads a range of bytes, none for a missing key, and throws for a range past the end', async () => {
    const objects = memoryJobObjects({ 'plans/p.jsonl': 'ab\nçd\n' })

    expect(await objects.readRange('plans/p.jsonl', 3, 7)).toBe('çd\n')
    expect(await objects.readRange('plans/none.jsonl', 0, 1)).toBeUndefined()
    await expect(objects.readRange('plans/p.jsonl', 3, 8)).rejects.toBeInstanceOf(ObjectTooShort)
  })

  it('writes an object from lines, each ended by a line break, and answers its bytes', async () => {
    const objects = memoryJobObjects()
    async function* lines() {
      yield 'code'
      yield 'ç'
    }

    expect(await objects.writeLines('reports/r.csv', lines(), 'text/csv')).toEqual({ bytes: 8 })

    expect(objects.objects.get('reports/r.csv')).toEqual({ text: 'code\nç\n', contentType: 'text/csv' })
  })

  it('leaves no object when a write of lines dies', async () => {
    const crash = crashes()
    const objects = memoryJobObjects({}, crash)
    crash.at('objects.write', 'before')
    async function* lines() {
      yield 'code'
    }

    await expect(objects.writeLines('reports/r.csv', lines(), 'text/csv')).rejects.toBeInstanceOf(InjectedCrash)

    expect(objects.objects.has('reports/r.csv')).toBe(false)
  })

  it('fails the chosen writes of a key, after reading their lines, storing nothing, and takes the writes after them', async () => {
    const crash = crashes()
    const objects = memoryJobObjects({ 'reports/j.csv': 'before\n' }, crash)
    let read = 0
    async function* lines() {
      for (const line of ['code,status', 'x,error']) {
        read += 1
        yield line
      }
    }
    objects.failWrites('reports/j.csv', 2)

    await expect(objects.writeLines('reports/j.csv', lines(), 'text/csv')).rejects.toBeInstanceOf(InjectedWriteFailure)
    await expect(objects.writeText('reports/j.csv', 'x\n', 'text/csv')).rejects.toBeInstanceOf(InjectedWriteFailure)
    const failed = { text: objects.objects.get('reports/j.csv')?.text, writes: crash.writes.length }
    await objects.writeText('reports/other.csv', 'other\n', 'text/csv')
    const written = await objects.writeLines('reports/j.csv', lines(), 'text/csv')

    expect(read).toBe(4)
    expect(failed).toEqual({ text: 'before\n', writes: 0 })
    expect(written).toEqual({ bytes: 20 })
    expect(objects.objects.get('reports/j.csv')).toEqual({ text: 'code,status\nx,error\n', contentType: 'text/csv' })
    expect(crash.writes.map(({ point, subject }) => `${point} ${subject}`)).toEqual(['objects.write reports/other.csv', 'objects.write reports/j.csv'])
  })
})
