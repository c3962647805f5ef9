import { beforeAll, describe, expect, it } from 'vitest'
import { packagedTemplate } from '../support/serverless.ts'
import { routesOf, webActions } from '../support/template.ts'

// What a team running imgpull in production expects of every deployed stage, read off the
// CloudFormation that `serverless package` writes for it, offline.
type Resource = { Type: string; Properties: Record<string, unknown>; Condition?: string }
type Template = { Resources: Record<string, Resource>; Conditions?: Record<string, unknown> }

const FUNCTIONS = ['Web', 'Download', 'Jobs', 'JobStatus', 'Worker', 'DeadLetters']
const STAGES = ['dev', 'prod']
const templates: Record<string, Template> = {}

beforeAll(async () => {
  // Both stages at once, each in a build folder of its own.
  await Promise.all(
    STAGES.map(async (stage) => {
      templates[stage] = await packagedTemplate<Template>(stage, [], `.esbuild/${stage}-operations-test`)
    }),
  )
}, 120_000)

const ofType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type)

describe.each(STAGES)('the deployed stage %s', (stage) => {
  const template = () => templates[stage]!

  it('alarms on each function\'s errors, throttles and duration near its timeout, to the alarm topic', () => {
    const alarms = ofType(template(), 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties)
    for (const fn of FUNCTIONS) {
      for (const metric of ['Errors', 'Throttles', 'Duration']) {
        const alarm = alarms.find(
          (properties) => properties['MetricName'] === metric && JSON.stringify(properties['Dimensions']) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: `${fn}LambdaFunction` } }]),
        )
        expect({ fn, metric, alarm: alarm === undefined ? 'missing' : alarm['AlarmActions'] }).toEqual({ fn, metric, alarm: [{ Ref: 'AlarmTopic' }] })
      }
    }
    const timeoutMs = (fn: string) => Number(template().Resources[`${fn}LambdaFunction`]?.Properties['Timeout']) * 1000
    const duration = (fn: string) => alarms.find((a) => a['MetricName'] === 'Duration' && JSON.stringify(a['Dimensions']).includes(`${fn}LambdaFunction`))
    for (const fn of FUNCTIONS) expect(Number(duration(fn)?.['Threshold'])).toBe(0.8 * timeoutMs(fn))
  })

  it('alarms on the download error rate, the dead-letter queue, the oldest chunk, failed scheduled runs and API 5xx', () => {
    const alarms = Object.fromEntries(ofType(template(), 'AWS::CloudWatch::Alarm'))
    expect(JSON.stringify(alarms['DownloadErrorRateSqsAlarm']?.Properties['Metrics'])).toContain('failed / (failed + stored + missing)')
    expect(alarms['DownloadErrorRateHttpAlarm']?.Properties['Threshold']).toBe(0.05)
    expect(alarms['DeadLettersNotEmptyAlarm']?.Properties).toMatchObject({ MetricName: 'NumberOfMessagesReceived', Statistic: 'Sum', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['JobsDeadLetterQueue', 'QueueName'] } }], Threshold: 1 })
    expect(alarms['OldestChunkAlarm']?.Properties).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 })
    expect(alarms['ScheduleFailuresAlarm']?.Properties).toMatchObject({ Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['ScheduleFailuresQueue', 'QueueName'] } }] })
    expect(alarms['Api5xxAlarm']?.Properties).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx', Dimensions: [{ Name: 'ApiId', Value: { Ref: 'HttpApi' } }] })
    for (const alarm of Object.values(alarms)) expect(alarm.Properties['AlarmActions']).toEqual([{ Ref: 'AlarmTopic' }])
    // The subscriber is a param: none until an operator names one.
    expect(template().Resources['AlarmEmailSubscription']?.Condition).toBe('HasAlarmEmail')
  })

  it('keeps a failed scheduled run: two more tries, then a queue of its own', () => {
    const [[, config] = []] = ofType(template(), 'AWS::Lambda::EventInvokeConfig')
    expect(config?.Properties).toMatchObject({
      FunctionName: { Ref: 'JobsLambdaFunction' },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['ScheduleFailuresQueue', 'Arn'] } } },
    })
  })

  it('traces every function with X-Ray and gives each a reserved concurrency, and keeps no old versions', () => {
    for (const fn of FUNCTIONS) {
      const properties = template().Resources[`${fn}LambdaFunction`]?.Properties
      expect({ fn, tracing: properties?.['TracingConfig'], reserved: typeof properties?.['ReservedConcurrentExecutions'] }).toEqual({ fn, tracing: { Mode: 'Active' }, reserved: 'number' })
    }
    expect(ofType(template(), 'AWS::Lambda::Version')).toEqual([])
    // Powertools' subsegments (origin requests, S3 calls) where the images are fetched.
    for (const fn of ['Download', 'Worker']) {
      const environment = template().Resources[`${fn}LambdaFunction`]?.Properties['Environment'] as { Variables: Record<string, unknown> }
      expect({ fn, tracing: environment.Variables['POWERTOOLS_TRACE_ENABLED'] }).toEqual({ fn, tracing: 'true' })
    }
    for (const [, role] of ofType(template(), 'AWS::IAM::Role')) {
      expect(JSON.stringify(role.Properties['ManagedPolicyArns'] ?? [])).toContain('AWSXRayDaemonWriteAccess')
    }
  })

  it('throttles the API, logs its access in JSON, and keeps every log group for a set time', () => {
    const stage = template().Resources['HttpApiStage']?.Properties as { DefaultRouteSettings: unknown; AccessLogSettings: { Format: string } }
    expect(stage.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })
    expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' })
    const groups = ofType(template(), 'AWS::Logs::LogGroup')
    expect(groups.length).toBe(FUNCTIONS.length + 1)
    for (const [name, group] of groups) expect({ name, retention: group.Properties['RetentionInDays'] }).toEqual({ name, retention: 30 })
  })

  it('has a dashboard of images per second, outcomes, bytes, latency and the job backlog', () => {
    const [[, dashboard] = []] = ofType(template(), 'AWS::CloudWatch::Dashboard')
    const body = JSON.stringify(dashboard?.Properties['DashboardBody'])
    for (const title of ['images stored per second', 'ok, not_found, error', 'bytes stored', 'download latency per image (ms)', 'job backlog']) expect(body).toContain(title)
  })
})

describe('the gallery on a deployed stage', () => {
  it('is not deployed without an authorizer, and the web role then reads nothing', () => {
    // Stage prod packaged above with no gallery params, as an operator gets it by default.
    const template = templates['prod']!
    expect(Object.keys(routesOf(template)).filter((route) => route.includes('/gallery'))).toEqual([])
    expect(webActions(template)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents'])
    expect((template.Resources['WebLambdaFunction']?.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['GALLERY']).toBe('off')
  })
})
