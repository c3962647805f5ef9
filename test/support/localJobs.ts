import { afterAll, beforeAll } from 'vitest'
import { createDynamoDbClient } from '../../lib/adapters/dynamodb/client.ts'
import { startLocalQueues, startLocalTable, LOCAL_JOBS, type LocalQueues, type LocalTable, type QueueSettings } from '../../devkit/localJobs.ts'
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

export interface JobServers {
  readonly table: LocalTable
  readonly queues: LocalQueues
  readonly tableName: string
  /** A document client on the local table. */
  readonly dynamoDb: DynamoDBDocumentClient
}

/** The local DynamoDB and SQS servers, on free loopback ports, for one test file. */
export function useJobServers(queue: QueueSettings = { visibilityTimeoutSeconds: 30, maxReceiveCount: 3, deadLetterVisibilityTimeoutSeconds: 30 }): JobServers {
  let started: JobServers | undefined
  beforeAll(async () => {
    const table = await startLocalTable(0)
    const queues = await startLocalQueues(0, queue)
    started = { table, queues, tableName: LOCAL_JOBS.table, dynamoDb: createDynamoDbClient({ localEndpoint: table.endpoint }) }
  })
  afterAll(async () => {
    started?.dynamoDb.destroy()
    await Promise.all([started?.table.close(), started?.queues.close()])
  })
  const get = (): JobServers => {
    if (started === undefined) throw new Error('the job servers start in beforeAll')
    return started
  }
  return {
    get table() {
      return get().table
    },
    get queues() {
      return get().queues
    },
    get tableName() {
      return get().tableName
    },
    get dynamoDb() {
      return get().dynamoDb
    },
  }
}
