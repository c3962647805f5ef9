import { describe, expect, it } from 'vitest'
import { crashes, InjectedCrash, memoryJobObjects, memoryJobStore } from '../../../devkit/memoryJobPorts.ts'
import type { ChunkMessage } from '../../../lib/jobs/chunks.ts'
import { countChunk, deadLetterOutcome, type Finishing } from '../../../lib/jobs/finish.ts'
import type { ChunkOutcome } from '../../../lib/jobs/job.ts'

const JOB_ID = '00000000-0000-4000-8000-000000000002'
const REPORT_KEY = `reports/${JOB_ID}.csv`

async function finishing(chunks: number) {
  const crash = crashes()
  const store = memoryJobStore(crash)
  const objects = memoryJobObjects({}, crash)
  let minute = 0
  const deps: Finishing = { store, objects, reportPrefix: 'reports/', now: () => new Date(Date.UTC(2026, 10, 26, 10, minute++)) }
  await store.create({ jobId: JOB_ID, total: chunks * 2, duplicates: 0, chunks, prefix: 'flags/', maxOriginRequests: 4, createdAt: '2026-11-26T09:00:00.000Z' })
  return { crash, store, objects, deps }
}

function chunkOf(chunk: number, failures: ChunkOutcome['failures'] = []): ChunkOutcome {
  const failed = { not_found: failures.filter((failure) => failure.status === 'not_found').length, error: failures.filter((failure) => failure.status === 'error').length }
  return { chunk, counter: { ok: 2 - failures.length, ...failed }, unchanged: 0, bytes: 10, failures }
}

const message: ChunkMessage = { jobId: JOB_ID, chunk: 1, codes: ['x', 'y'], baseUrl: 'https://origin.test', concurrency: 2, prefix: 'flags/', force: false }

describe('Function: countChunk', () => {
  it('counts a chunk that is not the last without closing its job', async () => {
    const { deps, objects } = await finishing(2)

    const job = await countChunk(JOB_ID, chunkOf(0), deps)

    expect(job).toMatchObject({ state: 'queued', chunksDone: 1, finishedAt: null, reportKey: null })
    expect(objects.objects.size).toBe(0)
  })

  it('writes the report of the failures in chunk order and marks the job done with the last chunk', async () => {
    const { deps, objects } = await finishing(2)

    await countChunk(JOB_ID, chunkOf(1, [{ code: 'y', status: 'error', reason: 'http_500', attempts: 3, httpStatus: 500, message: 'origin answered HTTP 500' }]), deps)
    const job = await countChunk(JOB_ID, chunkOf(0, [{ code: 'b', status: 'not_found', reason: 'not_found', attempts: 1, httpStatus: 404, message: 'not found' }]), deps)

    expect(job).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 2, not_found: 1, error: 1 }, reportKey: REPORT_KEY, finishedAt: '2026-11-26T10:02:00.000Z' })
    expect(objects.objects.get(REPORT_KEY)).toEqual({
      text: 'code,status,reason,attempts,httpStatus,message\nb,not_found,not_found,1,404,not found\ny,error,http_500,3,500,origin answered HTTP 500\n',
      contentType: 'text/csv; charset=utf-8',
    })
  })

  it('quotes the fields of the report that hold commas, quotes or line breaks', async () => {
    const { deps, objects } = await finishing(1)

    await countChunk(JOB_ID, chunkOf(0, [{ code: 'q', status: 'error', reason: 'network', attempts: 2, message: 'said "no", then\r\nhung up' }]), deps)

    expect(objects.objects.get(REPORT_KEY)?.text.split('\n').slice(1).join('\n')).toBe('q,error,network,2,,"said ""no"", then\r\nhung up"\n')
  })

  it('closes a job once: a chunk counted again after it is done writes no second report', async () => {
    const { deps, crash } = await finishing(1)

    const done = await countChunk(JOB_ID, chunkOf(0), deps)
    const again = await countChunk(JOB_ID, chunkOf(0, [{ code: 'x', status: 'error', reason: 'dead_letter', attempts: 0, message: 'late' }]), deps)

    expect(again).toEqual(done)
    expect(crash.writes.map(({ point }) => point)).toEqual(['store.create', 'store.chunkItem', 'store.chunkCount', 'objects.write', 'store.finish'])
  })

  it('closes a job its last count left open when a crash came before the report, on the next count of any of its chunks', async () => {
    const { deps, crash, objects } = await finishing(2)
    await countChunk(JOB_ID, chunkOf(0), deps)
    crash.at('objects.write', 'before')

    await expect(countChunk(JOB_ID, chunkOf(1), deps)).rejects.toBeInstanceOf(InjectedCrash)
    const counted = await deps.store.get(JOB_ID)
    const closed = await countChunk(JOB_ID, deadLetterOutcome({ ...message, chunk: 0 }, 'recorded before'), deps)

    expect(counted).toMatchObject({ state: 'queued', chunksDone: 2 })
    expect(closed).toMatchObject({ state: 'done', chunksDone: 2, counter: { ok: 4, not_found: 0, error: 0 }, reportKey: REPORT_KEY })
    expect(objects.objects.get(REPORT_KEY)?.text).toBe('code,status,reason,attempts,httpStatus,message\n')
  })

  it('keeps the first close when a crash came after the report but before the job was marked done', async () => {
    const { deps, crash } = await finishing(1)
    crash.at('store.finish', 'before')

    await expect(countChunk(JOB_ID, chunkOf(0), deps)).rejects.toBeInstanceOf(InjectedCrash)
    const closed = await countChunk(JOB_ID, chunkOf(0), deps)

    expect(closed).toMatchObject({ state: 'done', chunksDone: 1, counter: { ok: 2 } })
    expect(crash.writes.filter(({ point }) => point === 'objects.write')).toHaveLength(2)
    expect(crash.writes.filter(({ point }) => point === 'store.finish')).toHaveLength(1)
  })
})

describe('Function: deadLetterOutcome', () => {
  it('counts every code of the chunk an error, unattempted, for the reason given', () => {
    expect(deadLetterOutcome(message, 'the chunk kept failing')).toEqual({
      chunk: 1,
      counter: { ok: 0, not_found: 0, error: 2 },
      unchanged: 0,
      bytes: 0,
      failures: [
        { code: 'x', status: 'error', reason: 'dead_letter', attempts: 0, message: 'the chunk kept failing' },
        { code: 'y', status: 'error', reason: 'dead_letter', attempts: 0, message: 'the chunk kept failing' },
      ],
    })
  })
})
