import { memoryJobStore } from '../../devkit/memoryJobPorts.ts'
import { dynamoJobStore } from '../../lib/adapters/dynamodb/jobStore.ts'
import { useJobServers } from '../support/localJobs.ts'
import { describeJobStoreContract } from '../unit/jobs/jobStoreContract.ts'

const servers = useJobServers()

// The same scenarios through the store the unit tests fake and through the real one: the fake
// is only as good as its agreement with DynamoDB.
describeJobStoreContract('in memory', () => memoryJobStore())
describeJobStoreContract('DynamoDB', () => dynamoJobStore(servers.dynamoDb, servers.tableName, { ttlDays: 30 }))
