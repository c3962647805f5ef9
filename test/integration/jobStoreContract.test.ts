import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'
import { InjectedCrash } from '../../devkit/memoryJobPorts.ts'
import { dynamoJobStore } from '../../lib/adapters/dynamodb/jobStore.ts'
import { useJobServers } from '../support/localJobs.ts'
import { describeJobStoreContract, type CrashingStore } from '../support/jobStoreContract.ts'

const servers = useJobServers()

const dynamoStore = (client: DynamoDBDocumentClient) => dynamoJobStore(client, servers.tableName, { ttlDays: 30 })

/** The DynamoDB store on a client that dies at the store's transaction of a part, before it is sent or once DynamoDB has applied it. */
function crashingDynamoStore(): CrashingStore {
  let crashAt: 'before' | 'after' | undefined
  const client = {
    async send(command: Parameters<DynamoDBDocumentClient['send']>[0]) {
      const when = crashAt
      if (!(command instanceof TransactWriteCommand) || when === undefined) return servers.dynamoDb.send(command)
      crashAt = undefined
      if (when === 'after') await servers.dynamoDb.send(command)
      throw new InjectedCrash(`crashed ${when} recording the part`)
    },
  } as unknown as DynamoDBDocumentClient
  return {
    store: dynamoStore(client),
    crashAtPart: (when) => {
      crashAt = when
    },
  }
}

// The scenarios the store the unit tests fake is held to (test/unit/jobs/memoryJobStore.test.ts),
// through the real one: the fake is only as good as its agreement with DynamoDB.
describeJobStoreContract('DynamoDB', () => dynamoStore(servers.dynamoDb), crashingDynamoStore)
