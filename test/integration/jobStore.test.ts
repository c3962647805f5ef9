import { randomUUID } from 'node:crypto'
import { UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { describe, expect, it } from 'vitest'
import { dynamoJobStore } from '../../lib/adapters/dynamodb/jobStore.ts'
import { JobNotFound } from '../../lib/jobs/errors.ts'
import { outcome } from '../support/jobStoreContract.ts'
import { useJobServers } from '../support/localJobs.ts'

const servers = useJobServers()
const AT = '2026-11-26T10:00:00.000Z'

function store() {
  return dynamoJobStore(servers.dynamoDb, servers.tableName, { ttlDays: 30 })
}

async function newJob(chunks: number, total = chunks * 10) {
  const jobId = randomUUID()
  await store().create({ jobId, total, duplicates: 0, chunks, prefix: 'flags/', maxOriginRequests: 8, createdAt: AT })
  return jobId
}

describe('Function: dynamoJobStore', () => {
  // A job stored and read back is in the job store contract (jobStoreContract.test.ts), for this store too.
  it('counts a chunk once when it is recorded again, and the first outcome stands', async () => {
    const jobId = await newJob(2)
    await store().markRunning(jobId, AT)
    const first = await store().recordChunk(jobId, outcome(0, 8, 2), AT)
    // A redelivered message whose second run ended otherwise (its images were stored by the first).
    const again = await store().recordChunk(jobId, outcome(0, 10), AT)

    expect(first).toMatchObject({ state: 'running', chunksDone: 1, counter: { ok: 8, not_found: 0, error: 2 }, bytes: 800 })
    expect(again).toEqual(first)
    const failures = []
    for await (const page of store().failuresOf(jobId)) failures.push(...page)
    expect(failures.map((failure) => failure.code)).toEqual(['c0-0', 'c0-1'])
  })

  it('counts a chunk once when ten workers record it at the same moment', async () => {
    const jobId = await newJob(2)
    const results = await Promise.all(Array.from({ length: 10 }, () => store().recordChunk(jobId, outcome(1, 10), AT)))

    expect(new Set(results.map((job) => job.chunksDone))).toEqual(new Set([1]))
    expect(await store().get(jobId)).toMatchObject({ chunksDone: 1, counter: { ok: 10, not_found: 0, error: 0 } })
  })

  it('would double-count with plain atomic counters: the condition on the set of counted chunks is what prevents it', async () => {
    const jobId = await newJob(1)
    // What a naive worker does: ADD to the counters, with nothing remembering which chunk was added.
    const naiveAdd = () =>
      servers.dynamoDb.send(
        new UpdateCommand({
          TableName: servers.tableName,
          Key: { pk: `JOB#${jobId}`, sk: 'JOB' },
          UpdateExpression: 'ADD #ok :ok, chunksDone :one',
          ExpressionAttributeNames: { '#ok': 'ok' },
          ExpressionAttributeValues: { ':ok': 10, ':one': 1 },
        }),
      )
    await naiveAdd()
    await naiveAdd()
    expect(await store().get(jobId)).toMatchObject({ chunksDone: 2, counter: { ok: 20 } })
  })

  it('marks a job done once, with its report', async () => {
    const jobId = await newJob(1)
    await store().recordChunk(jobId, outcome(0, 10), AT)
    const done = await store().finish(jobId, `reports/${jobId}.csv`, '2026-11-26T10:05:00.000Z')
    const again = await store().finish(jobId, `reports/${jobId}.csv`, '2026-11-26T10:09:00.000Z')

    expect(done).toMatchObject({ state: 'done', finishedAt: '2026-11-26T10:05:00.000Z', reportKey: `reports/${jobId}.csv` })
    expect(again.finishedAt).toBe('2026-11-26T10:05:00.000Z')
  })

  it('lists the most recent jobs first', async () => {
    const ids = []
    for (const minute of ['10', '11', '12']) {
      const jobId = randomUUID()
      await store().create({ jobId, total: 1, duplicates: 0, chunks: 1, prefix: 'flags/', maxOriginRequests: 1, createdAt: `2030-01-01T00:${minute}:00.000Z` })
      ids.push(jobId)
    }
    expect((await store().recent(2)).map((job) => job.jobId)).toEqual([ids[2], ids[1]])
  })

  it('says JobNotFound for a chunk of a job it does not have', async () => {
    const jobId = randomUUID()
    await expect(store().markRunning(jobId, AT)).rejects.toBeInstanceOf(JobNotFound)
    await expect(store().recordChunk(jobId, outcome(0, 1), AT)).rejects.toBeInstanceOf(JobNotFound)
  })
})
