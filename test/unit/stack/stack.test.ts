import { describe, expect, it } from 'vitest'
import type { FunctionEntry } from '../../../stack/functions.ts'
import { deriveStack, type StackSettings } from '../../../stack/resources.ts'

const settings: StackSettings = {
  service: 'imgpull',
  stage: 'dev',
  keyPrefix: 'flags/',
  manifestPrefix: 'manifests/',
  reportPrefix: 'reports/',
  planPrefix: 'plans/',
  alarmEmail: '',
  alarmErrorRate: 0.05,
  alarmOldestChunkSeconds: 900,
  maxReceiveCount: 5,
  apiThrottleRate: 50,
  apiThrottleBurst: 100,
  providerTimeout: 29,
}

const queueReader = (queue: string, timeout?: number): FunctionEntry => ({
  ...(timeout === undefined ? {} : { timeout }),
  events: [{ sqs: { arn: { 'Fn::GetAtt': [queue, 'Arn'] } } }],
})

type Statement = { Action: string[]; Resource: unknown; Condition?: unknown }
const statementsOf = (stack: ReturnType<typeof deriveStack>, role: string) =>
  (stack.Resources[role]?.Properties['Policies'] as unknown as { PolicyDocument: { Statement: Statement[] } }[])[0]!.PolicyDocument.Statement

describe('Function: deriveStack', () => {
  it('gives each queue a visibility timeout of six times the timeout of the function that reads it', () => {
    const stack = deriveStack({ worker: queueReader('JobsQueue', 120), deadLetters: queueReader('JobsDeadLetterQueue', 30) }, settings)
    expect(stack.Resources['JobsQueue']?.Properties['VisibilityTimeout']).toBe(720)
    expect(stack.Resources['JobsDeadLetterQueue']?.Properties['VisibilityTimeout']).toBe(180)
    // A function with no timeout of its own runs as long as the provider's.
    expect(deriveStack({ worker: queueReader('JobsQueue') }, settings).Resources['JobsQueue']?.Properties['VisibilityTimeout']).toBe(6 * 29)
  })

  it('follows the longest timeout when two functions read one queue', () => {
    const stack = deriveStack({ fast: queueReader('JobsQueue', 10), slow: queueReader('JobsQueue', 100) }, settings)
    expect(stack.Resources['JobsQueue']?.Properties['VisibilityTimeout']).toBe(600)
  })

  it('alarms on each function\'s errors, throttles, and a run past 80 % of its own timeout', () => {
    const stack = deriveStack({ worker: { timeout: 120 }, jobStatus: { timeout: 10 }, web: {} }, settings)
    expect(stack.Resources['WorkerDurationAlarm']?.Properties).toMatchObject({ MetricName: 'Duration', Threshold: 96000, Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'WorkerLambdaFunction' } }] })
    expect(stack.Resources['JobStatusDurationAlarm']?.Properties['Threshold']).toBe(8000)
    expect(stack.Resources['WebDurationAlarm']?.Properties['Threshold']).toBe(23200)
    for (const fn of ['Worker', 'JobStatus', 'Web']) {
      expect(stack.Resources[`${fn}ErrorsAlarm`]?.Properties).toMatchObject({ MetricName: 'Errors', Threshold: 1, AlarmActions: [{ Ref: 'AlarmTopic' }] })
      expect(stack.Resources[`${fn}ThrottlesAlarm`]?.Properties).toMatchObject({ MetricName: 'Throttles', Threshold: 1 })
    }
  })

  it('writes a function\'s role from its access: object actions on its prefix, a listing only under it', () => {
    const stack = deriveStack({ download: { access: { images: ['PutObject', 'GetObject', 'ListBucket'] } } }, settings)
    expect(statementsOf(stack, 'DownloadRole')).toEqual([
      expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: { 'Fn::Sub': '${ImagesBucket.Arn}/flags/*' } },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: { 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'flags/*' } } },
    ])
    expect(JSON.stringify(statementsOf(stack, 'DownloadRole')[0]?.Resource)).toContain('log-group:/aws/lambda/imgpull-dev-download:*')
  })

  it('grants a function the queue its events read and the queue its failed invocations go to, from its entry alone', () => {
    const fn: FunctionEntry = { ...queueReader('JobsQueue'), destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['ScheduleFailuresQueue', 'Arn'] } } } }
    const statements = statementsOf(deriveStack({ worker: fn }, settings), 'WorkerRole')
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], Resource: { 'Fn::GetAtt': ['JobsQueue', 'Arn'] } })
    expect(statements).toContainEqual({ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: { 'Fn::GetAtt': ['ScheduleFailuresQueue', 'Arn'] } })
  })

  it('refuses a store or an action it does not know, naming the function', () => {
    expect(() => deriveStack({ web: { access: { everything: ['GetObject'] } } }, settings)).toThrow('function web: access names "everything", not one of images, manifests, reports, plans, jobsTable, recentJobs, jobsQueue')
    expect(() => deriveStack({ web: { access: { images: ['DeleteObject'] } } }, settings)).toThrow('function web: access to images names DeleteObject, not one of GetObject, PutObject, AbortMultipartUpload, ListBucket')
  })

  it('subscribes the operator\'s email to the alarms only where one is set, decided when the stack is packaged', () => {
    expect(deriveStack({}, settings).Resources['AlarmEmailSubscription']).toBeUndefined()
    expect(deriveStack({}, { ...settings, alarmEmail: 'ops@example.com' }).Resources['AlarmEmailSubscription']).toEqual({
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email', Endpoint: 'ops@example.com' },
    })
  })
})
