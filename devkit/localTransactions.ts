// DynamoDB transactions for the local table. dynalite, the in-memory DynamoDB server of `npm start`,
// the tests and the benchmarks, has no TransactWriteItems or TransactGetItems, and the jobs store
// writes a chunk and its job's counters in one. This front takes the local table's port, passes
// every request on to dynalite as it came, and runs those two itself as single-item calls to
// dynalite, so the store's code is the code that runs on AWS.
//
// What differs from AWS. Every write through the front takes one lock, so a transaction is atomic
// to every other write; but a read outside it (GetItem, Query, Scan, BatchGetItem) may see one half
// applied, and a process that dies mid-transaction leaves it half applied. A cancelled transaction
// is undone by writing back the items as they were. A ClientRequestToken is remembered 10 minutes
// for a transaction that succeeded: the same request again answers the same and changes nothing,
// another request with it is refused; a cancelled one, having changed nothing, runs again.
// ReturnConsumedCapacity and ReturnItemCollectionMetrics are not answered, and no transaction ever
// conflicts with another (TransactionConflictException): they wait their turn.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DeleteItemCommandInput,
  type GetItemCommandInput,
  type PutItemCommandInput,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb'
import { createHash, randomUUID } from 'node:crypto'
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'

export interface LocalTransactions {
  readonly endpoint: string
  /** Requests answered so far, by operation, and the items the writes among them wrote. */
  stats(): { readonly requests: Readonly<Record<string, number>>; readonly itemsWritten: number }
  close(): Promise<void>
}

type Item = Record<string, AttributeValue>

/** What DynamoDB answers: a status and a JSON body. */
interface Answer {
  readonly status: number
  readonly body: unknown
}

interface CancellationReason {
  readonly Code: string
  readonly Message?: string
  readonly Item?: Item
}

const ACTION_KINDS = ['ConditionCheck', 'Put', 'Delete', 'Update'] as const
type ActionKind = (typeof ACTION_KINDS)[number]

/** One entry of TransactItems: its kind and its request as the client sent it. */
interface Action {
  readonly kind: ActionKind | 'Get'
  readonly request: { readonly TableName: string; readonly Key?: Item; readonly Item?: Item; readonly ReturnValuesOnConditionCheckFailure?: string }
}

/** An action with the key of the one item it touches. */
interface Target extends Action {
  readonly key: Item
}

/** A write action with its item as it was before the transaction. */
interface Write extends Target {
  readonly before: Item | undefined
}

const TARGET_PREFIX = 'DynamoDB_20120810.'
// The calls that change items: they take the lock, as transactions do.
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'])
const MAX_ACTIONS = 100
const TOKEN_LIFETIME_MS = 10 * 60 * 1000
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

const ok = (body: unknown): Answer => ({ status: 200, body })
const refused = (type: string, message: string, more: object = {}): Answer => ({ status: 400, body: { __type: type, message, ...more } })
const invalid = (message: string) => refused('com.amazon.coral.validate#ValidationException', message)

/**
 * Starts the front on 127.0.0.1:`port` (0: a free port) before the dynalite at `dynaliteEndpoint`.
 * close() stops the front only.
 */
export async function startLocalTransactions(port: number, dynaliteEndpoint: string): Promise<LocalTransactions> {
  const upstream = new URL(dynaliteEndpoint)
  const agent = new Agent({ keepAlive: true })
  const dynamoDb = new DynamoDBClient({ endpoint: dynaliteEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 })
  const exclusively = oneAtATime()
  const tokens = new Map<string, { readonly request: string; readonly at: number }>()

  const forward = (req: IncomingMessage, res: ServerResponse) =>
    new Promise<void>((resolve) => {
      res.once('close', resolve)
      const toDynalite = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers, agent }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      toDynalite.on('error', () => res.destroy())
      req.pipe(toDynalite)
    })

  const keyNames = async (tableName: string): Promise<string[]> => {
    const { Table } = await dynamoDb.send(new DescribeTableCommand({ TableName: tableName }))
    return (Table?.KeySchema ?? []).flatMap(({ AttributeName }) => (AttributeName === undefined ? [] : [AttributeName]))
  }

  /** The actions, each with its item's key, or AWS's refusal of two actions on one item. */
  const targetsOf = async (actions: readonly Action[]): Promise<Target[] | Answer> => {
    const tables = [...new Set(actions.map(({ request }) => request.TableName))]
    const keys = new Map(await Promise.all(tables.map(async (table) => [table, await keyNames(table)] as const)))
    const seen = new Set<string>()
    const targets: Target[] = []
    for (const action of actions) {
      const { TableName, Key, Item: item } = action.request
      const key = Key ?? Object.fromEntries((keys.get(TableName) ?? []).flatMap((name) => (item?.[name] === undefined ? [] : [[name, item[name]]])))
      const identity = JSON.stringify([TableName, Object.entries(key).sort(([a], [b]) => a.localeCompare(b))], toWire)
      if (seen.has(identity)) return invalid('Transaction request cannot include multiple operations on one item')
      seen.add(identity)
      targets.push({ ...action, key })
    }
    return targets
  }

  const restore = async ({ request, key, before }: Write) => {
    await (before === undefined
      ? dynamoDb.send(new DeleteItemCommand({ TableName: request.TableName, Key: key }))
      : dynamoDb.send(new PutItemCommand({ TableName: request.TableName, Item: before })))
  }

  /** Applies one action with its own condition; a condition that fails is a reason, not an error. */
  const apply = async (target: Write): Promise<CancellationReason> => {
    const { ReturnValuesOnConditionCheckFailure: returnOld, ...request } = target.request
    try {
      if (target.kind === 'Put') await dynamoDb.send(new PutItemCommand(request as PutItemCommandInput))
      if (target.kind === 'Update') await dynamoDb.send(new UpdateItemCommand(request as UpdateItemCommandInput))
      if (target.kind === 'Delete') await dynamoDb.send(new DeleteItemCommand(request as DeleteItemCommandInput))
      if (target.kind === 'ConditionCheck') {
        // An update that changes nothing but may create the item: checked, then put back as it was.
        await dynamoDb.send(new UpdateItemCommand(request as UpdateItemCommandInput))
        await restore(target)
      }
      return { Code: 'None' }
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error
      const old = returnOld === 'ALL_OLD' && target.before !== undefined ? { Item: target.before } : {}
      return { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...old }
    }
  }

  let transactionItemsWritten = 0
  const transactWrite = async (input: { TransactItems?: unknown; ClientRequestToken?: unknown }): Promise<Answer> => {
    const actions = actionsOf(input.TransactItems, ACTION_KINDS)
    if (!Array.isArray(actions)) return actions
    const token = typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : undefined
    // The SDK sends a token with every transaction, so a digest of each is kept, not the request.
    const fingerprint = createHash('sha256').update(JSON.stringify(input.TransactItems, toWire)).digest('base64')
    for (const [name, { at }] of tokens) {
      // Kept in the order they were taken: the first that has not expired ends the sweep.
      if (Date.now() - at <= TOKEN_LIFETIME_MS) break
      tokens.delete(name)
    }
    const earlier = token === undefined ? undefined : tokens.get(token)
    if (earlier !== undefined) {
      return earlier.request === fingerprint
        ? ok({})
        : refused('com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException', 'The request uses the same client token as a previous, but non-identical request.')
    }
    const targets = await targetsOf(actions)
    if (!Array.isArray(targets)) return targets
    const writes: Write[] = []
    for (const target of targets) {
      const { Item: before } = await dynamoDb.send(new GetItemCommand({ TableName: target.request.TableName, Key: target.key, ConsistentRead: true }))
      writes.push({ ...target, before })
    }
    const reasons: CancellationReason[] = []
    try {
      // No two actions touch one item, so each condition sees its item as it was before the
      // transaction, as on AWS: every action is tried, and every failed condition reported.
      for (const write of writes) reasons.push(await apply(write))
    } catch (error) {
      for (const write of writes.slice(0, reasons.length + 1)) await restore(write)
      throw error
    }
    if (reasons.every(({ Code }) => Code === 'None')) {
      transactionItemsWritten += writes.filter(({ kind }) => kind !== 'ConditionCheck').length
      if (token !== undefined) tokens.set(token, { request: fingerprint, at: Date.now() })
      return ok({})
    }
    for (const write of writes) await restore(write)
    const codes = reasons.map(({ Code }) => Code).join(', ')
    return refused('com.amazonaws.dynamodb.v20120810#TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`, {
      CancellationReasons: reasons,
    })
  }

  const transactGet = async (input: { TransactItems?: unknown }): Promise<Answer> => {
    const actions = actionsOf(input.TransactItems, ['Get'])
    if (!Array.isArray(actions)) return actions
    const targets = await targetsOf(actions)
    if (!Array.isArray(targets)) return targets
    const responses = []
    for (const { request } of targets) {
      const { Item: item } = await dynamoDb.send(new GetItemCommand({ ...(request as GetItemCommandInput), ConsistentRead: true }))
      responses.push(item === undefined ? {} : { Item: item })
    }
    return ok({ Responses: responses })
  }

  const transaction = async (operation: string, req: IncomingMessage, res: ServerResponse) => {
    let answer: Answer
    try {
      const input = JSON.parse(await bodyOf(req), fromWire) as { TransactItems?: unknown; ClientRequestToken?: unknown }
      answer = await exclusively(() => (operation === 'TransactWriteItems' ? transactWrite(input) : transactGet(input)))
    } catch (error) {
      answer = errorAnswer(error)
    }
    res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() })
    res.end(JSON.stringify(answer.body, toWire))
  }

  const requests: Record<string, number> = {}
  let itemsWritten = 0
  const server = createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '')
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''
    requests[operation] = (requests[operation] ?? 0) + 1
    if (WRITES.has(operation) && operation !== 'BatchWriteItem') itemsWritten += 1
    if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') return void transaction(operation, req, res)
    if (WRITES.has(operation)) return void exclusively(() => forward(req, res))
    void forward(req, res)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  return {
    endpoint: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}`,
    stats: () => ({ requests: { ...requests }, itemsWritten: itemsWritten + transactionItemsWritten }),
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      agent.destroy()
      dynamoDb.destroy()
    },
  }
}

/** TransactItems as actions of the given kinds, or AWS's refusal of them. */
function actionsOf(items: unknown, kinds: readonly (ActionKind | 'Get')[]): Action[] | Answer {
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_ACTIONS) {
    return invalid(`1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length between 1 and ${MAX_ACTIONS}`)
  }
  const actions: Action[] = []
  for (const item of items as Record<string, unknown>[]) {
    const present = kinds.filter((kind) => item[kind] !== undefined)
    const [kind] = present
    const request = kind === undefined ? undefined : (item[kind] as Action['request'] | null)
    if (present.length !== 1 || kind === undefined || typeof request?.TableName !== 'string') {
      return invalid(`TransactItems can only contain one of ${kinds.join(', ')}, with a TableName`)
    }
    actions.push({ kind, request })
  }
  return actions
}

/** Runs tasks one at a time in order of arrival; one that fails does not hold up the next. */
function oneAtATime() {
  let last: Promise<unknown> = Promise.resolve()
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = last.then(task, task)
    last = run.catch(() => undefined)
    return run
  }
}

/** A dynalite error as dynalite answered it; anything else as DynamoDB's internal error. */
function errorAnswer(error: unknown): Answer {
  if (error instanceof SyntaxError) return refused('com.amazonaws.dynamodb.v20120810#SerializationException', error.message)
  if (error instanceof DynamoDBServiceException) {
    return { status: error.$metadata.httpStatusCode ?? 400, body: { __type: `com.amazonaws.dynamodb.v20120810#${error.name}`, message: error.message } }
  }
  return { status: 500, body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(error) } }
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

// Binary attribute values travel as base64 in DynamoDB's JSON and as bytes in the SDK: "B" and "BS"
// are those values' only keys, every attribute's value being an object.
function fromWire(key: string, value: unknown): unknown {
  if (key === 'B' && typeof value === 'string') return Buffer.from(value, 'base64')
  if (key === 'BS' && Array.isArray(value)) return (value as unknown[]).map((each) => (typeof each === 'string' ? Buffer.from(each, 'base64') : each))
  return value
}

function toWire(this: unknown, key: string, value: unknown): unknown {
  // Read from the holder: a Buffer's toJSON has already run on `value`.
  const raw = (this as Record<string, unknown>)[key]
  return raw instanceof Uint8Array ? Buffer.from(raw).toString('base64') : value
}
