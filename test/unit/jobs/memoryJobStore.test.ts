import { describe, expect, it } from 'vitest'
import { crashes, InjectedCrash, InjectedWriteFailure, memoryChunkQueue, memoryJobObjects, memoryJobStore } from '../../../devkit/memoryJobPorts.ts'
import { ObjectTooLarge } from '../../../lib/jobs/errors.ts'
import type { ChunkMessage } from '../../../lib/jobs/chunks.ts'
import { describeJobStoreContract, outcome } from '../../support/jobStoreContract.ts'

const AT = '2026-11-26T10:00:00.000Z'
const JOB_ID = '00000000-0000-4000-8000-000000000001'

describeJobStoreContract('in memory', () => memoryJobStore(), () => {
  const crash = crashes()
  return { store: memoryJobStore(crash), crashAtCount: (when) => crash.at('store.chunkCount', when) }
})

function newJob(chunks: number) {
  return { jobId: JOB_ID, total: chunks * 10, duplicates: 0, chunks, prefix: 'flags/', maxOriginRequests: 8, createdAt: AT }
}

function message(chunk: number): ChunkMessage {
  return { jobId: JOB_ID, chunk, codes: [`c${chunk}`], baseUrl: 'https://origin.test', concurrency: 1, prefix: 'flags/', force: false }
}

describe('Function: memoryJobStore', () => {
  it('writes no chunk item when it crashes before it, so the chunk is not recorded', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(newJob(1))
    crash.at('store.chunkItem', 'before')

    await expect(store.recordChunk(JOB_ID, outcome(0, 10), AT)).rejects.toBeInstanceOf(InjectedCrash)

    expect(await store.chunkRecorded(JOB_ID, 0)).toBe(false)
    expect(store.recordedChunks(JOB_ID)).toEqual([])
  })

  it('records the chunk of an unknown job before saying JobNotFound, as the DynamoDB store does', async () => {
    const store = memoryJobStore()
    await expect(store.recordChunk(JOB_ID, outcome(3, 1), AT)).rejects.toThrow(`no job ${JOB_ID} to count chunk 3 into`)
    expect(store.recordedChunks(JOB_ID)).toEqual([3])
  })
})

describe('Function: crashes', () => {
  it('fires once, at the nth write of its point, and logs every write made', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    await store.create(newJob(3))
    crash.at('store.chunkItem', 'after', 2)

    await store.recordChunk(JOB_ID, outcome(0, 10), AT)
    await expect(store.recordChunk(JOB_ID, outcome(1, 10), AT)).rejects.toThrow(`crashed after store.chunkItem (${JOB_ID}#1)`)
    await store.recordChunk(JOB_ID, outcome(2, 10), AT)

    expect(crash.armed).toBe(false)
    expect(crash.writes.map(({ point }) => point)).toEqual(['store.create', 'store.chunkItem', 'store.chunkCount', 'store.chunkItem', 'store.chunkItem', 'store.chunkCount'])
  })

  it('crashes after the nth write of any kind', async () => {
    const crash = crashes()
    const store = memoryJobStore(crash)
    crash.afterWrite(2)

    await store.create(newJob(1))
    await expect(store.recordChunk(JOB_ID, outcome(0, 10), AT)).rejects.toBeInstanceOf(InjectedCrash)

    expect(crash.writes).toEqual([
      { point: 'store.create', subject: JOB_ID },
      { point: 'store.chunkItem', subject: `${JOB_ID}#0` },
    ])
  })
})

describe('Function: memoryChunkQueue', () => {
  it('hands back the messages it refuses, with the reason, and sends the rest', async () => {
    const queue = memoryChunkQueue({ refuse: (sent) => (sent.chunk === 1 ? 'QueueDoesNotExist' : undefined) })

    const unsent = await queue.send([message(0), message(1), message(2)])

    expect(unsent).toEqual({ messages: [message(1)], reason: 'QueueDoesNotExist' })
    expect(queue.sent.map((body) => (JSON.parse(body) as ChunkMessage).chunk)).toEqual([0, 2])
  })

  it('keeps the messages sent before a crash in the middle of a send', async () => {
    const crash = crashes()
    const queue = memoryChunkQueue({ crash })
    crash.at('queue.send', 'before', 3)

    await expect(queue.send([message(0), message(1), message(2), message(3)])).rejects.toBeInstanceOf(InjectedCrash)

    expect(queue.waiting).toHaveLength(2)
  })

  it('delivers a message again while its handler throws, then to the dead letters, at most maxReceiveCount times each', async () => {
    const queue = memoryChunkQueue()
    await queue.send([message(0), message(1)])
    const handled: number[] = []
    const deadLetters: number[] = []

    const errors = await queue.deliver(
      async (body) => {
        const { chunk } = JSON.parse(body) as ChunkMessage
        handled.push(chunk)
        if (chunk === 1) throw new Error('poison')
      },
      async (body) => {
        deadLetters.push((JSON.parse(body) as ChunkMessage).chunk)
      },
      3,
    )

    expect(handled).toEqual([0, 1, 1, 1])
    expect(deadLetters).toEqual([1])
    expect(errors).toHaveLength(3)
    expect(queue.waiting).toEqual([])
  })
})

describe('Function: memoryJobObjects', () => {
  it('reads an object whole, none for a missing key, and refuses one past maxBytes with ObjectTooLarge', async () => {
    const objects = memoryJobObjects({ 'manifests/a.txt': 'a\nb\n' })

    expect(await objects.readText('manifests/a.txt', 4)).toBe('a\nb\n')
    expect(await objects.readText('manifests/none.txt', 4)).toBeUndefined()
    await expect(objects.readText('manifests/a.txt', 3)).rejects.toBeInstanceOf(ObjectTooLarge)
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
