import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { STACK_VARIANTS, stackShape, withPackagedStack, type Template } from '../support/packagedStack.ts'
import { runServerless } from '../support/serverless.ts'
import { routesOf, webActions } from '../support/template.ts'

// The deployed stages as `serverless package` writes them, offline, each packaged once: the stack
// derived from serverless.yml's function list has the resources and grants of the hand-written
// template it replaced, is clean under AWS's CloudFormation linter, and has what a team running
// imgpull in production expects of every deployed stage.
const run = promisify(execFile)
const fixture = JSON.parse(await readFile(new URL('../fixtures/stack-shape.json', import.meta.url), 'utf8')) as Record<string, { resources: Record<string, Record<string, unknown>>; conditions: unknown; outputs: unknown }>

interface LintFinding {
  readonly Filename: string
  readonly Rule: { readonly Id: string }
  readonly Message: string
}

const cfnLintInstalled = await run('cfn-lint', ['--version']).then(
  () => true,
  () => false,
)

const packaged: Record<string, { template: Template; shape: ReturnType<typeof stackShape>; findings: LintFinding[] }> = {}

beforeAll(async () => {
  const templates = await mkdtemp(join(tmpdir(), 'imgpull-templates-'))
  try {
    // Each variant in its turn (test/support/serverless.ts), then one cfn-lint over them all.
    const variants = Object.keys(STACK_VARIANTS)
    const paths = variants.map((_, index) => join(templates, `${index}.json`))
    await Promise.all(
      variants.map(async (variant, index) => {
        packaged[variant] = await withPackagedStack(variant, async (template, path) => {
          await copyFile(path, paths[index]!)
          return { template, shape: stackShape(template), findings: [] }
        })
      }),
    )
    const findings = cfnLintInstalled ? await lint(paths) : []
    variants.forEach((variant, index) => (packaged[variant]!.findings = findings.filter((finding) => finding.Filename === paths[index])))
  } finally {
    await rm(templates, { recursive: true, force: true })
  }
}, 300_000)

async function lint(paths: readonly string[]): Promise<LintFinding[]> {
  // cfn-lint exits non-zero whenever it finds anything; its findings are on stdout either way.
  const { stdout } = await run('cfn-lint', ['--format', 'json', ...paths]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
  return JSON.parse(stdout) as LintFinding[]
}

/**
 * The recorded stack as it stands now that the alarm email is decided when the stack is packaged
 * (cfn-lint's W8003: a condition on two literals): a subscription only where an email is set, and
 * no condition.
 */
function withAlarmEmailDecidedAtPackaging(recorded: (typeof fixture)[string]) {
  const resources = { ...recorded.resources }
  const unconditional: Record<string, unknown> = { ...resources['AlarmEmailSubscription'] }
  delete unconditional['Condition']
  const email = (unconditional['Properties'] as { Endpoint?: string } | undefined)?.Endpoint
  if (email === '') delete resources['AlarmEmailSubscription']
  else resources['AlarmEmailSubscription'] = unconditional
  return { ...recorded, conditions: {}, resources }
}

/**
 * The recorded stack as it stands now that the jobs queue keeps its chunks 14 days, SQS's most, not
 * 4: SQS drops a message past its retention without moving it to the dead-letter queue.
 */
function withJobsQueueKeptFourteenDays(recorded: (typeof fixture)[string]): (typeof fixture)[string] {
  const queue = recorded.resources['JobsQueue'] as { Properties: Record<string, unknown> }
  const resources = { ...recorded.resources, JobsQueue: { ...queue, Properties: { ...queue.Properties, MessageRetentionPeriod: 1_209_600 } } }
  return { ...recorded, resources }
}

const grant = (action: string, resource: unknown) => JSON.stringify({ action, condition: null, effect: 'Allow', resource })
const inBucket = (prefix: string) => ({ 'Fn::Sub': `\${ImagesBucket.Arn}/${prefix}*` })
const JOBS_TABLE = { 'Fn::GetAtt': ['JobsTable', 'Arn'] }
const JOBS_QUEUE = { 'Fn::GetAtt': ['JobsQueue', 'Arn'] }

/**
 * The recorded stack as it stands now that a job's plan is stored in the bucket and every step of
 * a job after the planner may queue the next (issue 20): the planner writes plans and no report;
 * the worker reads its chunk's line of a plan, streams a report and queues a chunk's next part or
 * a job's finish; the dead letters also look for a stored image, and count a part only while no
 * worker holds it. Each of those functions reads
 * the queue and the fan-out check's delay, the planner where plans go.
 */
function withJobsPlannedInTheBucket(recorded: (typeof fixture)[string]): (typeof fixture)[string] {
  const changes: Record<string, { add: string[]; remove: string[]; variables: Record<string, unknown>; description?: string }> = {
    Jobs: {
      add: [grant('s3:PutObject', inBucket('plans/')), grant('s3:AbortMultipartUpload', inBucket('plans/'))],
      remove: [grant('dynamodb:Query', JOBS_TABLE), grant('s3:PutObject', inBucket('reports/'))],
      variables: { PLAN_PREFIX: 'plans/', FAN_OUT_CHECK_SECONDS: '60' },
      description: 'imgpull jobs - validates a job, stores its plan and itself, and queues its chunks',
    },
    Worker: {
      add: [grant('s3:GetObject', inBucket('plans/')), grant('s3:AbortMultipartUpload', inBucket('reports/')), grant('sqs:SendMessage', JOBS_QUEUE)],
      remove: [],
      variables: { FAN_OUT_CHECK_SECONDS: '60' },
      description: 'imgpull jobs - runs the chunks of jobs from the queue, and their fan-outs and finishes',
    },
    DeadLetters: {
      add: [
        grant('dynamodb:ConditionCheckItem', JOBS_TABLE),
        grant('s3:GetObject', inBucket('flags/')),
        grant('s3:GetObject', inBucket('plans/')),
        grant('s3:AbortMultipartUpload', inBucket('reports/')),
        grant('sqs:SendMessage', JOBS_QUEUE),
      ],
      remove: [],
      variables: { JOBS_QUEUE_URL: { Ref: 'JobsQueue' }, LOCAL_SQS_ENDPOINT: '', FAN_OUT_CHECK_SECONDS: '60' },
    },
  }
  const bucket = recorded.resources['ImagesBucket'] as { Properties: { LifecycleConfiguration: { Rules: unknown[] } } }
  // Plans, kept past the longest a job stays open, then removed.
  const expirePlans = { Id: 'ExpirePlans', Status: 'Enabled', Prefix: 'plans/', ExpirationInDays: 30 }
  const lifecycle = { Rules: [...bucket.Properties.LifecycleConfiguration.Rules, expirePlans] }
  const resources: Record<string, Record<string, unknown>> = { ...recorded.resources, ImagesBucket: { ...bucket, Properties: { ...bucket.Properties, LifecycleConfiguration: lifecycle } } }
  for (const [fn, { add, remove, variables, description }] of Object.entries(changes)) {
    const role = resources[`${fn}Role`] as { Properties: { grants: string[] } }
    const grants = [...role.Properties.grants.filter((pair) => !remove.includes(pair)), ...add].sort()
    resources[`${fn}Role`] = { ...role, Properties: { ...role.Properties, grants } }
    const lambda = resources[`${fn}LambdaFunction`] as { Properties: { Environment: { Variables: Record<string, unknown> }; Description: string } }
    const environment = { Variables: { ...lambda.Properties.Environment.Variables, ...variables } }
    resources[`${fn}LambdaFunction`] = { ...lambda, Properties: { ...lambda.Properties, Environment: environment, Description: description ?? lambda.Properties.Description } }
  }
  return { ...recorded, resources }
}

/** A resource apart from its function's environment variables, and those variables. */
function withoutVariables(resource: Record<string, unknown>): [Record<string, unknown>, Record<string, unknown>] {
  const properties = { ...(resource['Properties'] as Record<string, unknown>) }
  const variables = (properties['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}
  delete properties['Environment']
  return [{ ...resource, Properties: properties }, variables]
}

describe.each(Object.keys(STACK_VARIANTS))('the packaged stack: %s', (variant) => {
  it('deploys the same resources, properties and role grants as the template recorded before it was derived', () => {
    const expected = withJobsPlannedInTheBucket(withJobsQueueKeptFourteenDays(withAlarmEmailDecidedAtPackaging(fixture[variant]!)))
    const actual = packaged[variant]!.shape as typeof expected
    expect(Object.keys(actual.resources).sort()).toEqual(Object.keys(expected.resources).sort())
    for (const id of Object.keys(expected.resources)) {
      const [recorded, recordedVariables] = withoutVariables(expected.resources[id]!)
      const [packagedNow, variables] = withoutVariables(actual.resources[id]!)
      expect({ id, resource: packagedNow }).toEqual({ id, resource: recorded })
      // Each function now gets only the variables its own config loader reads, all as they were.
      expect({ id, variables: recordedVariables }).toMatchObject({ id, variables })
    }
    expect(actual.conditions).toEqual(expected.conditions)
    expect(actual.outputs).toEqual(expected.outputs)
  })

  it.skipIf(!cfnLintInstalled)(
    cfnLintInstalled ? 'passes cfn-lint with nothing but the framework\'s W3005' : 'passes cfn-lint (skipped: cfn-lint is not on PATH; install it with `pip install cfn-lint`)',
    () => {
      const findings = packaged[variant]!.findings
      expect(findings.filter((finding) => finding.Rule.Id !== 'W3005').map((finding) => `${finding.Rule.Id} ${finding.Message}`)).toEqual([])
    },
  )
})

describe('the stack of a stage whose worker timeout an operator changed', () => {
  it('gives the jobs queue six times that timeout and the worker\'s duration alarm 80 % of it', async () => {
    const { code, stdout, stderr } = await runServerless(['print', '--stage', 'dev', '--param=workerTimeout=100', '--format', 'json'])
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' })
    const { Resources } = (JSON.parse(stdout) as { resources: { Resources: Record<string, { Properties: Record<string, unknown> }> } }).resources
    expect(Resources['JobsQueue']?.Properties['VisibilityTimeout']).toBe(600)
    expect(Resources['WorkerDurationAlarm']?.Properties['Threshold']).toBe(80_000)
  })
})

const FUNCTIONS = ['Web', 'Download', 'Jobs', 'JobStatus', 'Worker', 'DeadLetters']
const STAGES = ['dev', 'prod']

const ofType = (template: Template, type: string) => Object.entries(template.Resources).filter(([, resource]) => resource.Type === type)

describe.each(STAGES)('the deployed stage %s', (stage) => {
  const template = () => packaged[stage]!.template

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
    // The subscriber is a param: none until an operator names one (the stack with one is compared above).
    expect(template().Resources['AlarmEmailSubscription']).toBeUndefined()
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
    const template = packaged['prod']!.template
    expect(Object.keys(routesOf(template)).filter((route) => route.includes('/gallery'))).toEqual([])
    expect(webActions(template)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents'])
    expect((template.Resources['WebLambdaFunction']?.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['GALLERY']).toBe('off')
  })

  // The gallery behind the operator's JWT authorizer, as every optional param sets it.
  const jwtParams = STACK_VARIANTS['prod with every optional param']!.params as Record<string, string>
  const template = () => packaged['prod with every optional param']!.template

  it('is deployed behind the operator\'s JWT authorizer, with read-only access to the images and jobs', () => {
    expect(routesOf(template())).toMatchObject({ 'GET /': 'NONE', 'GET /gallery': 'JWT', 'GET /gallery/{proxy+}': 'JWT', 'GET /gallery/assets/{file}': 'NONE' })
    const authorizer = Object.values(template().Resources).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Authorizer')
    expect(authorizer?.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'], JwtConfiguration: { Issuer: jwtParams.galleryJwtIssuer, Audience: [jwtParams.galleryJwtAudience] } })
    expect(webActions(template())).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:ListBucket', 'dynamodb:GetItem', 'dynamodb:Query'])
    expect(JSON.stringify(template().Resources['WebRole'])).not.toMatch(/"\*"|s3:Put|dynamodb:(Put|Update)/)
  })
})
