import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb'
import dynalite from 'dynalite'
import { startFauxqs } from 'fauxqs'
import { JOBS_TABLE_KEYS } from '../stack/storage.ts'
import { startLocalTransactions } from './localTransactions.ts'

/** The local SQS and DynamoDB servers of `npm start`, and the queue and table stage local uses there. */
export const LOCAL_JOBS = Object.freeze({
  sqsPort: 9324,
  dynamoDbPort: 8000,
  queue: 'imgpull-local-jobs',
  deadLetterQueue: 'imgpull-local-jobs-dead-letters',
  table: 'imgpull-local-jobs',
})

// fauxqs's account id, which the queue URLs stage local is configured with carry.
const LOCAL_ACCOUNT = '000000000000'
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

/** The jobs queue as the template defines it: what the local queues must honour. */
export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number
  readonly maxReceiveCount: number
  readonly deadLetterVisibilityTimeoutSeconds: number
}

export interface LocalQueues {
  readonly endpoint: string
  readonly queueUrl: string
  readonly queueArn: string
  readonly deadLetterQueueUrl: string
  readonly deadLetterQueueArn: string
  /** Messages in either queue not yet deleted: waiting, delayed, or taken and in flight. */
  pending(): number
  close(): Promise<void>
}

/**
 * Starts an SQS-protocol server (fauxqs) on loopback with the jobs queue and its dead-letter
 * queue: the visibility timeout and the redrive after `maxReceiveCount` deliveries are the server's.
 */
export async function startLocalQueues(port: number, settings: QueueSettings): Promise<LocalQueues> {
  const server = await startFauxqs({ port, host: '127.0.0.1', logger: false })
  const endpoint = `http://127.0.0.1:${server.port}`
  const deadLetters = server.createQueue(LOCAL_JOBS.deadLetterQueue, {
    attributes: { VisibilityTimeout: String(settings.deadLetterVisibilityTimeoutSeconds), MessageRetentionPeriod: '1209600' },
  })
  const jobs = server.createQueue(LOCAL_JOBS.queue, {
    attributes: {
      VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetters.queueArn, maxReceiveCount: String(settings.maxReceiveCount) }),
    },
  })
  return {
    endpoint,
    queueUrl: `${endpoint}/${LOCAL_ACCOUNT}/${LOCAL_JOBS.queue}`,
    queueArn: jobs.queueArn,
    deadLetterQueueUrl: `${endpoint}/${LOCAL_ACCOUNT}/${LOCAL_JOBS.deadLetterQueue}`,
    deadLetterQueueArn: deadLetters.queueArn,
    pending: () =>
      [LOCAL_JOBS.queue, LOCAL_JOBS.deadLetterQueue].reduce((sum, name) => {
        const { ready = [], delayed = [], inflight = [] } = server.inspectQueue(name)?.messages ?? {}
        return sum + ready.length + delayed.length + inflight.length
      }, 0),
    close: () => server.stop(),
  }
}

export interface LocalTable {
  readonly endpoint: string
  /** Requests the table answered so far, by operation, and the items its writes wrote. */
  stats(): { readonly requests: Readonly<Record<string, number>>; readonly itemsWritten: number }
  close(): Promise<void>
}

/**
 * Starts a DynamoDB-protocol server (dynalite, in memory) on loopback with the jobs table, keyed
 * as the template's, behind the front that gives it transactions (localTransactions.ts): `port` is
 * the front's, dynalite listens on a free port of its own. dynalite has no TTL: local job items
 * stay until it stops.
 */
export async function startLocalTable(port: number): Promise<LocalTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const closeDynalite = () => new Promise<void>((resolve) => server.close(() => resolve()))
  const address = server.address()
  const dynaliteEndpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const client = new DynamoDBClient({ endpoint: dynaliteEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS })
  try {
    await client.send(
      // The deployed table's keys and index, as the stack defines them (its literals are read-only).
      new CreateTableCommand({ TableName: LOCAL_JOBS.table, ...(JOBS_TABLE_KEYS as unknown as Omit<CreateTableCommandInput, 'TableName'>) }),
    )
    const front = await startLocalTransactions(port, dynaliteEndpoint)
    return {
      endpoint: front.endpoint,
      stats: () => front.stats(),
      close: async () => {
        await front.close()
        await closeDynalite()
      },
    }
  } catch (error) {
    await closeDynalite()
    throw error
  } finally {
    client.destroy()
  }
}
