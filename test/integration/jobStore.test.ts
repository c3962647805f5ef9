import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { describe, expect, it } from 'vitest'
import { dynamoJobStore } from '../../lib/adapters/dynamodb/jobStore.ts'
import { newJobOf, outcome } from '../support/jobStoreContract.ts'
import { useJobServers } from '../support/localJobs.ts'

const servers = useJobServers()
const AT = '2026-11-26T10:00:00.000Z'
// What DynamoDB reads for one strongly consistent read unit.
const READ_UNIT_BYTES = 4096

function store() {
  return dynamoJobStore(servers.dynamoDb, servers.tableName, { ttlDays: 30 })
}

async function newJob(chunks: number) {
  const job = newJobOf(chunks)
  await store().create(job)
  return job.jobId
}

/** An item's size as DynamoDB bills it, near enough: its attribute names and values. */
function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value)), 0)
}

describe('Function: dynamoJobStore', () => {
  // Everything a JobStore promises is in the job store contract (jobStoreContract.test.ts), for this store too.
  it('would double-count with plain atomic counters: the transaction with the part item is what prevents it', async () => {
    const jobId = await newJob(1)
    // What a naive worker does: ADD to the counters, with nothing remembering which part was added.
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

  it('keeps the job item the same size however many chunks are counted: a status read is one read unit', async () => {
    const chunks = 200
    const jobId = await newJob(chunks)
    const sizeOf = async () => itemBytes((await servers.dynamoDb.send(new GetCommand({ TableName: servers.tableName, Key: { pk: `JOB#${jobId}`, sk: 'JOB' } }))).Item ?? {})
    const before = await sizeOf()

    for (let chunk = 0; chunk < chunks; chunk += 50) await Promise.all(Array.from({ length: 50 }, (_, i) => store().recordPart(jobId, outcome(chunk + i, 9, 1), AT)))

    const after = await sizeOf()
    expect(await store().get(jobId)).toMatchObject({ chunksDone: chunks, counter: { ok: chunks * 9, error: chunks } })
    expect(after).toBeLessThan(before + 64)
    expect(after).toBeLessThan(READ_UNIT_BYTES)
  })
})
