import {
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactGetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LOCAL_JOBS, startLocalTable, type LocalTable } from '../../devkit/localJobs.ts'

const TableName = LOCAL_JOBS.table
let table: LocalTable
let client: DynamoDBClient
let documents: DynamoDBDocumentClient

beforeAll(async () => {
  table = await startLocalTable(0)
  client = new DynamoDBClient({ endpoint: table.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  documents = DynamoDBDocumentClient.from(client)
})

afterAll(async () => {
  client.destroy()
  await table.close()
})

/** A job item's key, new to each test. */
function newJob() {
  return { pk: `JOB#${randomUUID()}`, sk: 'JOB' }
}

/** What the jobs store writes for a chunk: the chunk item, once, and its job's counters. */
function countChunk(job: { pk: string; sk: string }, chunk: number, { returnOld = true } = {}): TransactWriteItem[] {
  return [
    {
      Put: {
        TableName,
        Item: { pk: { S: job.pk }, sk: { S: `CHUNK#${chunk}` }, ok: { N: '10' } },
        ConditionExpression: 'attribute_not_exists(pk)',
        ...(returnOld ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
      },
    },
    {
      Update: {
        TableName,
        Key: { pk: { S: job.pk }, sk: { S: job.sk } },
        UpdateExpression: 'ADD chunksDone :one, #ok :ok',
        ExpressionAttributeNames: { '#ok': 'ok' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':ok': { N: '10' } },
      },
    },
  ]
}

async function jobItem(job: { pk: string; sk: string }) {
  return (await documents.send(new GetCommand({ TableName, Key: job, ConsistentRead: true }))).Item
}

async function cancellation(transaction: Promise<unknown>): Promise<TransactionCanceledException> {
  const error: unknown = await transaction.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(TransactionCanceledException)
  return error as TransactionCanceledException
}

describe('Function: startLocalTable, TransactWriteItems', () => {
  it('applies both writes of a transaction: the chunk item put and the job counters added', async () => {
    const job = newJob()
    await documents.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName, Item: { pk: job.pk, sk: 'CHUNK#0', ok: 10 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Update: { TableName, Key: job, UpdateExpression: 'ADD chunksDone :one', ExpressionAttributeValues: { ':one': 1 } } },
        ],
      }),
    )

    expect(await jobItem(job)).toEqual({ ...job, chunksDone: 1 })
    expect(await jobItem({ pk: job.pk, sk: 'CHUNK#0' })).toEqual({ pk: job.pk, sk: 'CHUNK#0', ok: 10 })
  })

  it('cancels a chunk counted twice with a reason per action, and undoes the counters added before the failed condition', async () => {
    const job = newJob()
    await client.send(new TransactWriteItemsCommand({ TransactItems: countChunk(job, 0) }))
    const [put, update] = countChunk(job, 0)
    if (put === undefined || update === undefined) throw new Error('two actions')

    const error = await cancellation(client.send(new TransactWriteItemsCommand({ TransactItems: [update, put] })))

    expect(error.message).toBe('Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]')
    expect(error.$metadata.httpStatusCode).toBe(400)
    expect(error.CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed'])
    expect(error.CancellationReasons?.[1]?.Message).toBe('The conditional request failed')
    expect(await jobItem(job)).toEqual({ ...job, chunksDone: 1, ok: 10 })
  })

  it('returns the item that failed its condition in the reason when the action asks ALL_OLD, and only then', async () => {
    const job = newJob()
    await documents.send(new PutCommand({ TableName, Item: { pk: job.pk, sk: 'CHUNK#0', ok: 7 } }))

    const error = await cancellation(client.send(new TransactWriteItemsCommand({ TransactItems: countChunk(job, 0) })))
    const plain = await cancellation(client.send(new TransactWriteItemsCommand({ TransactItems: countChunk(job, 0, { returnOld: false }) })))

    expect(error.CancellationReasons?.[0]).toEqual({
      Code: 'ConditionalCheckFailed',
      Message: 'The conditional request failed',
      Item: { pk: { S: job.pk }, sk: { S: 'CHUNK#0' }, ok: { N: '7' } },
    })
    expect(plain.CancellationReasons?.[0]?.Item).toBeUndefined()
    expect(await jobItem(job)).toBeUndefined()
  })

  it('checks a ConditionCheck without writing its item, and cancels the transaction when it fails', async () => {
    const job = newJob()
    const absent = { pk: `JOB#${randomUUID()}`, sk: 'JOB' }
    const checkAbsent = {
      ConditionCheck: { TableName, Key: { pk: { S: absent.pk }, sk: { S: absent.sk } }, ConditionExpression: 'attribute_not_exists(pk)' },
    }
    const checkPresent = { ConditionCheck: { ...checkAbsent.ConditionCheck, ConditionExpression: 'attribute_exists(pk)' } }
    const [, update] = countChunk(job, 0)
    if (update === undefined) throw new Error('two actions')

    await client.send(new TransactWriteItemsCommand({ TransactItems: [checkAbsent, update] }))
    const error = await cancellation(client.send(new TransactWriteItemsCommand({ TransactItems: [update, checkPresent] })))

    expect(await jobItem(absent)).toBeUndefined()
    expect(error.CancellationReasons?.map((reason) => reason.Code)).toEqual(['None', 'ConditionalCheckFailed'])
    expect(await jobItem(job)).toEqual({ ...job, chunksDone: 1, ok: 10 })
  })

  it('refuses two actions on one item, and more than 100 actions, as a ValidationException that changes nothing', async () => {
    const job = newJob()
    const [put, update] = countChunk(job, 0)
    if (put?.Put === undefined || update === undefined) throw new Error('two actions')
    // The same item twice: once by its key, once by the put's item.
    const sameItem = { Put: { TableName, Item: { pk: { S: job.pk }, sk: { S: job.sk } } } }
    const tooMany = Array.from({ length: 101 }, (_, chunk) => countChunk(job, chunk)[0] as TransactWriteItem)

    const refusals = await Promise.all(
      [[put, update, sameItem], tooMany, []].map((items) =>
        client.send(new TransactWriteItemsCommand({ TransactItems: items })).then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    )

    expect(refusals.map((error) => (error instanceof DynamoDBServiceException ? error.name : error))).toEqual([
      'ValidationException',
      'ValidationException',
      'ValidationException',
    ])
    expect((refusals[0] as Error).message).toBe('Transaction request cannot include multiple operations on one item')
    expect(await jobItem(job)).toBeUndefined()
    expect(await jobItem({ pk: job.pk, sk: 'CHUNK#0' })).toBeUndefined()
  })

  it('undoes the writes before an action the table refuses, and passes the table error on', async () => {
    const job = newJob()
    const [put] = countChunk(job, 0)
    const addText = { Update: { TableName, Key: { pk: { S: job.pk }, sk: { S: 'OTHER' } }, UpdateExpression: 'ADD n :text', ExpressionAttributeValues: { ':text': { S: 'x' } } } }

    const error: unknown = await client.send(new TransactWriteItemsCommand({ TransactItems: [put as TransactWriteItem, addText] })).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )

    expect(error).toBeInstanceOf(DynamoDBServiceException)
    expect((error as DynamoDBServiceException).name).toBe('ValidationException')
    expect(await jobItem({ pk: job.pk, sk: 'CHUNK#0' })).toBeUndefined()
  })

  it('answers a request repeated with its ClientRequestToken without applying it again, and refuses the token on another request', async () => {
    const job = newJob()
    const ClientRequestToken = randomUUID()
    const [, update] = countChunk(job, 0)
    if (update === undefined) throw new Error('two actions')

    await client.send(new TransactWriteItemsCommand({ TransactItems: [update], ClientRequestToken }))
    await client.send(new TransactWriteItemsCommand({ TransactItems: [update], ClientRequestToken }))
    const mismatch: unknown = await client.send(new TransactWriteItemsCommand({ TransactItems: countChunk(job, 1), ClientRequestToken })).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )

    expect(await jobItem(job)).toEqual({ ...job, chunksDone: 1, ok: 10 })
    expect((mismatch as Error).name).toBe('IdempotentParameterMismatchException')
  })

  it('counts each chunk exactly once when many transactions race, duplicates among them, beside plain writes to the same item', async () => {
    const job = newJob()
    const chunks = 40
    const copies = 3
    const transactions = Array.from({ length: chunks * copies }, (_, i) =>
      client.send(new TransactWriteItemsCommand({ TransactItems: countChunk(job, i % chunks) })).then(
        () => 'counted',
        (error: unknown) => (error instanceof TransactionCanceledException ? error.CancellationReasons?.map((reason) => reason.Code).join() : error),
      ),
    )
    // Another client's writes to the job item: a transaction undone must not undo them.
    const plainWrites = Array.from({ length: 20 }, () =>
      documents.send(new UpdateCommand({ TableName, Key: job, UpdateExpression: 'ADD plain :one', ExpressionAttributeValues: { ':one': 1 } })),
    )

    const outcomes = await Promise.all(transactions)
    await Promise.all(plainWrites)

    expect(outcomes.filter((outcome) => outcome === 'counted')).toHaveLength(chunks)
    expect(outcomes.filter((outcome) => outcome !== 'counted')).toEqual(Array.from({ length: chunks * (copies - 1) }, () => 'ConditionalCheckFailed,None'))
    expect(await jobItem(job)).toEqual({ ...job, chunksDone: chunks, ok: chunks * 10, plain: 20 })
  })
})

describe('Function: startLocalTable, TransactGetItems', () => {
  it('reads several items at once, an absent one as an empty response, with a projection', async () => {
    const job = newJob()
    await client.send(new TransactWriteItemsCommand({ TransactItems: countChunk(job, 0) }))

    const { Responses } = await documents.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName, Key: job, ProjectionExpression: 'chunksDone' } },
          { Get: { TableName, Key: { pk: job.pk, sk: 'CHUNK#0' } } },
          { Get: { TableName, Key: { pk: job.pk, sk: 'CHUNK#1' } } },
        ],
      }),
    )
    const low = await client.send(new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName, Key: { pk: { S: job.pk }, sk: { S: job.sk } } } }] }))

    expect(Responses?.map((response) => response.Item)).toEqual([{ chunksDone: 1 }, { pk: job.pk, sk: 'CHUNK#0', ok: 10 }, undefined])
    expect(low.Responses?.[0]?.Item?.['ok']).toEqual({ N: '10' })
    expect((await client.send(new GetItemCommand({ TableName, Key: { pk: { S: job.pk }, sk: { S: 'CHUNK#1' } } }))).Item).toBeUndefined()
  })
})
