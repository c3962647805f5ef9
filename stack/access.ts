import { getAtt, pascal, sub, type Json, type Resource } from './cloudFormation.ts'
import { failureQueue, queuesRead, type FunctionEntry } from './functions.ts'

/** Where the stack's data lives: the bucket's prefixes, the table and its index, the queues. */
export interface Stores {
  readonly keyPrefix: string
  readonly manifestPrefix: string
  readonly reportPrefix: string
  readonly planPrefix: string
}

interface Statement {
  readonly Effect: 'Allow'
  readonly Action: readonly string[]
  readonly Resource: Json
  readonly Condition?: Json
}

type StoreGrant = (actions: readonly string[]) => Statement[]

const allow = (Action: readonly string[], Resource: Json, Condition?: Json): Statement => (Condition === undefined ? { Effect: 'Allow', Action, Resource } : { Effect: 'Allow', Action, Resource, Condition })

// A prefix of the bucket: object actions on its keys, a listing only under it.
function bucketPrefix(prefix: string): StoreGrant {
  return (actions) => {
    const objectActions = actions.filter((action) => action !== 'ListBucket').map((action) => `s3:${action}`)
    const statements = objectActions.length === 0 ? [] : [allow(objectActions, sub(`\${ImagesBucket.Arn}/${prefix}*`))]
    if (actions.includes('ListBucket')) statements.push(allow(['s3:ListBucket'], getAtt('ImagesBucket', 'Arn'), { StringLike: { 's3:prefix': `${prefix}*` } }))
    return statements
  }
}

const onResource = (service: string, resource: Json): StoreGrant => (actions) => [allow(actions.map((action) => `${service}:${action}`), resource)]

const ACTIONS_OF: Readonly<Record<string, readonly string[]>> = {
  s3: ['GetObject', 'PutObject', 'AbortMultipartUpload', 'ListBucket'],
  dynamodb: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'ConditionCheckItem'],
  sqs: ['SendMessage'],
}

/** The stores a function's `access` may name, each with its service and how its grants are written. */
function storesOf(stores: Stores): Record<string, { service: string; grant: StoreGrant }> {
  return {
    images: { service: 's3', grant: bucketPrefix(stores.keyPrefix) },
    manifests: { service: 's3', grant: bucketPrefix(stores.manifestPrefix) },
    reports: { service: 's3', grant: bucketPrefix(stores.reportPrefix) },
    plans: { service: 's3', grant: bucketPrefix(stores.planPrefix) },
    jobsTable: { service: 'dynamodb', grant: onResource('dynamodb', getAtt('JobsTable', 'Arn')) },
    recentJobs: { service: 'dynamodb', grant: onResource('dynamodb', sub('${JobsTable.Arn}/index/byCreation')) },
    jobsQueue: { service: 'sqs', grant: onResource('sqs', getAtt('JobsQueue', 'Arn')) },
  }
}

// What Lambda's event source mapping does with the function's role on a queue it reads.
const QUEUE_CONSUMER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility']

/**
 * The statements of a function's role: its own log group, what its `access` names, the queues its
 * sqs events read and the queue its failed asynchronous invocations go to. Throws on a store or
 * an action the list does not know, naming the function.
 */
export function statementsOf(name: string, fn: FunctionEntry, functionName: string, stores: Stores): Statement[] {
  const known = storesOf(stores)
  const logs = allow(['logs:CreateLogStream', 'logs:PutLogEvents'], sub(`arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${functionName}:*`))
  const granted = Object.entries(fn.access ?? {}).flatMap(([store, actions]) => {
    const target = known[store]
    if (target === undefined) throw new Error(`function ${name}: access names "${store}", not one of ${Object.keys(known).join(', ')}`)
    const unknown = actions.filter((action) => !ACTIONS_OF[target.service]?.includes(action))
    if (unknown.length > 0) throw new Error(`function ${name}: access to ${store} names ${unknown.join(', ')}, not one of ${ACTIONS_OF[target.service]?.join(', ')}`)
    return target.grant(actions)
  })
  const consumed = queuesRead(fn).map((queue) => allow(QUEUE_CONSUMER_ACTIONS, getAtt(queue, 'Arn')))
  const failures = failureQueue(fn)
  const failureSends = failures === undefined ? [] : [allow(['sqs:SendMessage'], getAtt(failures, 'Arn'))]
  return [logs, ...sameActionsTogether(granted), ...consumed, ...failureSends]
}

/** One statement for the stores granted the very same actions, as a person would write the policy. */
function sameActionsTogether(statements: readonly Statement[]): Statement[] {
  const merged: Statement[] = []
  for (const statement of statements) {
    const twin = merged.findIndex((other) => other.Condition === undefined && statement.Condition === undefined && other.Action.join() === statement.Action.join())
    const previous = merged[twin]
    if (previous === undefined) merged.push(statement)
    else merged[twin] = allow(previous.Action, [previous.Resource, statement.Resource].flat())
  }
  return merged
}

/** The logical id of a function's own role. */
export const roleOf = (name: string): string => `${pascal(name)}Role`

/** A function's own role: assumed by Lambda, X-Ray's managed policy, and the statements above. */
export function roleResource(name: string, statements: readonly Statement[], service: string): Resource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      // X-Ray's own policy: trace segments take no resource of their own.
      ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess')],
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      Policies: [
        {
          PolicyName: `${service}-${name.replaceAll(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`,
          PolicyDocument: { Version: '2012-10-17', Statement: statements as unknown as Json },
        },
      ],
    },
  }
}
