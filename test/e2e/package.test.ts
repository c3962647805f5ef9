import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { unzipTo } from '../../devkit/zip.ts'
import { packageStage } from '../support/serverless.ts'
import type { Template } from '../support/template.ts'

const run = promisify(execFile)

// Every test here reads the one package below: its zips, bundles and CloudFormation template.
const BUILD_FOLDER = '.esbuild/prod-package-test'

// The batch an operator configures for the prod schedule.
const SCHEDULED_REQUEST = { baseUrl: 'https://i1.mifile.cn/a1', codes: ['cn', 'fr'], concurrency: 2 }

describe('serverless package --stage prod', () => {
  let packageDir: string
  let template: Template

  beforeAll(async () => {
    const packaged = await packageStage<Template>(
      'prod',
      ['--param=scheduleEnabled=true', `--param=scheduleRequest=${JSON.stringify(SCHEDULED_REQUEST)}`],
      BUILD_FOLDER,
    )
    packageDir = packaged.dir
    template = packaged.template
  })
  afterAll(async () => {
    await rm(packageDir, { recursive: true, force: true })
  })

  it('produces one small zip per function, each bundle with its source map', async () => {
    const web = await stat(join(packageDir, 'web.zip'))
    const download = await stat(join(packageDir, 'download.zip'))
    // The gallery's S3 and DynamoDB clients are most of web's size.
    expect(web.size).toBeLessThan(1024 * 1024)
    expect(download.size).toBeLessThan(1536 * 1024)
  })

  it('logs an unexpected error of the packaged handler with TypeScript source lines, as Lambda runs it', async () => {
    const unzipped = await mkdtemp(join(tmpdir(), 'imgpull-unzip-'))
    try {
      await unzipTo(join(packageDir, 'download.zip'), unzipped)
      // A clock that fails once the engine reads it: an error raised deep inside the bundle.
      const script = `
        const { handler } = require(process.argv[1])
        let reads = 0
        const context = { functionName: 'imgpull-prod-download', awsRequestId: 'r1', getRemainingTimeInMillis() {
          reads += 1
          if (reads > 1) throw new Error('clock unavailable')
          return 60000
        } }
        handler({ codes: ['a'] }, context).catch(() => undefined)`
      const { stdout, stderr } = await run(process.execPath, ['-e', script, join(unzipped, 'handlers', 'download.cjs')], {
        // Lambda's environment: the function's own variables, not this test runner's.
        env: { PATH: process.env['PATH'] ?? '', BUCKET_NAME: 'imgpull-test', STAGE: 'prod' },
      })
      const logged = `${stdout}\n${stderr}`
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { message: string; error?: { stack: string } })
        .find((line) => line.message === 'unexpected failure')
      expect(logged?.error?.stack).toMatch(/at startDeadline \(lib\/download\/deadline\.ts:\d+:\d+\)/)
      expect(logged?.error?.stack).toMatch(/at runDownloads \(lib\/download\/engine\.ts:\d+:\d+\)/)
      expect(logged?.error?.stack).not.toMatch(/download\.cjs/)
    } finally {
      await rm(unzipped, { recursive: true, force: true })
    }
  })

  it('bundles into each function only what it uses: web carries no HTTP client, origin guard or Powertools, download no page code', async () => {
    const unzipped = await mkdtemp(join(tmpdir(), 'imgpull-unzip-'))
    try {
      const bundles: Record<string, string> = {}
      for (const name of ['web', 'download']) {
        await unzipTo(join(packageDir, `${name}.zip`), join(unzipped, name))
        bundles[name] = await readFile(join(unzipped, name, 'handlers', `${name}.cjs`), 'utf8')
      }
      for (const marker of ['undici', 'POWERTOOLS_', 'ipaddr']) {
        expect({ marker, web: bundles['web']?.includes(marker) }).toEqual({ marker, web: false })
        expect({ marker, download: bundles['download']?.includes(marker) }).toEqual({ marker, download: true })
      }
      // And the other way round: the page headers and the router belong to web alone.
      for (const marker of ['frame-ancestors', 'Route does not exist']) {
        expect({ marker, web: bundles['web']?.includes(marker) }).toEqual({ marker, web: true })
        expect({ marker, download: bundles['download']?.includes(marker) }).toEqual({ marker, download: false })
      }
    } finally {
      await rm(unzipped, { recursive: true, force: true })
    }
  })

  it('runs both functions on nodejs24.x on arm64', () => {
    for (const name of ['WebLambdaFunction', 'DownloadLambdaFunction']) {
      expect(template.Resources[name]?.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'] })
    }
  })

  it('creates a private, encrypted images bucket that refuses plain HTTP', () => {
    const bucket = template.Resources['ImagesBucket']
    expect(bucket?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    })
    const policy = template.Resources['ImagesBucketPolicy']?.Properties['PolicyDocument'] as { Statement: unknown[] }
    expect(policy.Statement).toEqual([
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }, { 'Fn::Sub': '${ImagesBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ])
  })

  it('grants nothing on a wildcard resource: every Allow is the bucket prefix, a listing under it, or the function\'s own logs', () => {
    type Statement = { Effect: string; Resource: unknown; Condition?: unknown }
    const role = template.Resources['DownloadRole']?.Properties as { Policies: { PolicyDocument: { Statement: Statement[] } }[] }
    const bucketPolicy = template.Resources['ImagesBucketPolicy']?.Properties['PolicyDocument'] as { Statement: Statement[] }
    const statements = [...role.Policies.flatMap((policy) => policy.PolicyDocument.Statement), ...bucketPolicy.Statement]
    const resources = statements.flatMap((statement) =>
      [statement.Resource].flat().map((resource) => ({ statement, resource: JSON.stringify(resource) })),
    )
    expect(resources.length).toBeGreaterThan(0)
    for (const { statement, resource } of resources) {
      expect(resource).not.toBe('"*"')
      if (statement.Effect !== 'Allow') continue
      if (resource === JSON.stringify({ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] })) {
        // The bucket itself only for listing, and only under the key prefix.
        expect(statement.Condition).toEqual({ StringLike: { 's3:prefix': 'flags/*' } })
      } else {
        expect(resource).toMatch(/\$\{ImagesBucket\.Arn\}\/flags\/\*|log-group:\/aws\/lambda\/imgpull-prod-download:\*/)
      }
    }
  })

  it('puts POST /download and the jobs API behind an IAM authorizer and leaves the web routes public', () => {
    const authorization: Record<string, unknown> = Object.fromEntries(
      Object.values(template.Resources)
        .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
        .map((resource): [string, unknown] => [String(resource.Properties['RouteKey']), resource.Properties['AuthorizationType'] ?? 'NONE']),
    )
    expect(authorization).toEqual({
      'GET /': 'NONE',
      'GET /hello/{name}': 'NONE',
      'POST /download': 'AWS_IAM',
      'POST /jobs': 'AWS_IAM',
      'GET /jobs/{jobId}': 'AWS_IAM',
    })
  })

  it('gives the deployed download function the deployed origin rules', () => {
    const environment = (template.Resources['DownloadLambdaFunction']?.Properties['Environment'] as { Variables: Record<string, unknown> })
      .Variables
    expect(environment).toMatchObject({ STAGE: 'prod', ALLOWED_HOSTS: '', BASE_URL: 'https://i1.mifile.cn/a1', LOCAL_S3_ENDPOINT: '' })
  })

  it('lets the download role read and write only under the key prefix of the bucket', () => {
    const role = template.Resources['DownloadRole']?.Properties as {
      Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[]
    }
    const statements = role.Policies.flatMap((policy) => policy.PolicyDocument.Statement)
    const s3Statements = statements.filter((statement) => statement.Action.some((action) => action.startsWith('s3:')))
    expect(s3Statements).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'], Resource: { 'Fn::Sub': '${ImagesBucket.Arn}/flags/*' } },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: { 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }, Condition: { StringLike: { 's3:prefix': 'flags/*' } } },
    ])
    expect(template.Resources['DownloadLambdaFunction']?.Properties['Role']).toEqual({ 'Fn::GetAtt': ['DownloadRole', 'Arn'] })
  })

  it('wires the jobs function to POST /jobs and to a schedule that sends its own event with the operator\'s job', () => {
    const routes = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((resource) => resource.Properties['RouteKey'])
    expect(routes.sort()).toEqual(['GET /', 'GET /hello/{name}', 'GET /jobs/{jobId}', 'POST /download', 'POST /jobs'])
    const rule = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Events::Rule')
    expect((rule?.Properties['Targets'] as { Arn: unknown }[])[0]?.Arn).toEqual({ 'Fn::GetAtt': ['JobsLambdaFunction', 'Arn'] })
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: 'rate(1 day)', State: 'ENABLED' })
    const target = (rule?.Properties['Targets'] as { Input?: string; InputTransformer: { InputTemplate: string; InputPathsMap: Record<string, string> } }[])[0]
    expect(target?.Input).toBeUndefined()
    // What EventBridge sends: its event's own fields where the placeholders stand, the batch as detail.
    const ruleEvent: Record<string, unknown> = {
      id: 'e1f0', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '210987654321',
      time: '2026-11-27T06:00:00Z', region: 'eu-west-1', resources: ['arn:aws:events:eu-west-1:210987654321:rule/x'],
    }
    const { InputTemplate, InputPathsMap } = target!.InputTransformer
    const sent = InputTemplate.replaceAll(/<(\w+)>/g, (_, name: string) =>
      JSON.stringify(ruleEvent[String(InputPathsMap[name]).replace(/^\$\./, '')]),
    )
    expect(JSON.parse(sent)).toEqual({ version: '0', ...ruleEvent, detail: SCHEDULED_REQUEST })
  })

  it('runs jobs on a queue with a dead-letter queue, a visibility of six worker timeouts, and partial batch failures', () => {
    const queue = template.Resources['JobsQueue']?.Properties as { VisibilityTimeout: number; RedrivePolicy: { deadLetterTargetArn: unknown; maxReceiveCount: number }; SqsManagedSseEnabled: boolean }
    const worker = template.Resources['WorkerLambdaFunction']?.Properties as { Timeout: number; Role: unknown }
    expect(queue.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] }, maxReceiveCount: 5 })
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * worker.Timeout)
    expect(queue.SqsManagedSseEnabled).toBe(true)
    expect(template.Resources['JobsDeadLetterQueue']?.Properties).toMatchObject({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true })
    const mappings = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping').map((resource) => resource.Properties)
    expect(mappings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          EventSourceArn: { 'Fn::GetAtt': ['JobsQueue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['WorkerLambdaFunction', 'Arn'] },
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 10 },
        }),
        expect.objectContaining({
          EventSourceArn: { 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['DeadLettersLambdaFunction', 'Arn'] },
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ]),
    )
  })

  it('keeps job state in an on-demand, encrypted table whose items expire', () => {
    expect(template.Resources['JobsTable']?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    })
  })

  it('gives each function a role of its own, scoped to the resources it uses and never to *', () => {
    type Statement = { Effect: string; Action: string[]; Resource: unknown; Condition?: unknown }
    const policyOf = (role: string) =>
      (template.Resources[role]?.Properties as { Policies: { PolicyDocument: { Statement: Statement[] } }[] }).Policies.flatMap(
        (policy) => policy.PolicyDocument.Statement,
      )
    // In any order: a policy grants the same whatever order its statements are written in.
    const summary = (role: string) =>
      policyOf(role)
        .filter((statement) => !statement.Action.every((action) => action.startsWith('logs:')))
        .map((statement) => `${statement.Action.join(',')} on ${JSON.stringify(statement.Resource)}`)
        .sort()
    for (const [fn, role] of [['Jobs', 'JobsRole'], ['JobStatus', 'JobStatusRole'], ['Worker', 'WorkerRole'], ['DeadLetters', 'DeadLettersRole']]) {
      expect(template.Resources[`${fn}LambdaFunction`]?.Properties['Role']).toEqual({ 'Fn::GetAtt': [role, 'Arn'] })
      const logs = policyOf(role!).filter((statement) => statement.Action.every((action) => action.startsWith('logs:')))
      expect(JSON.stringify(logs.map((statement) => statement.Resource))).toContain(`log-group:/aws/lambda/imgpull-prod-${fn!.charAt(0).toLowerCase()}${fn!.slice(1)}:*`)
    }
    const table = JSON.stringify({ 'Fn::GetAtt': ['JobsTable', 'Arn'] })
    expect(summary('JobStatusRole')).toEqual([`dynamodb:GetItem on ${table}`])
    const jobsQueue = JSON.stringify({ 'Fn::GetAtt': ['JobsQueue', 'Arn'] })
    const plans = JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/plans/*' })
    const reports = JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/reports/*' })
    expect(summary('JobsRole')).toEqual([
      `dynamodb:PutItem,dynamodb:GetItem,dynamodb:UpdateItem on ${table}`,
      `sqs:SendMessage on ${jobsQueue}`,
      `sqs:SendMessage on ${JSON.stringify({ 'Fn::GetAtt': ['ScheduleFailuresQueue', 'Arn'] })}`,
      `s3:GetObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/manifests/*' })}`,
      `s3:ListBucket on ${JSON.stringify({ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] })}`,
      `s3:PutObject,s3:AbortMultipartUpload on ${plans}`,
    ].sort())
    const listings = policyOf('JobsRole').filter((statement) => statement.Action.includes('s3:ListBucket'))
    expect(listings.map((statement) => statement.Condition)).toEqual([{ StringLike: { 's3:prefix': 'manifests/*' } }])
    expect(summary('WorkerRole')).toEqual([
      `s3:PutObject,s3:AbortMultipartUpload,s3:GetObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/flags/*' })}`,
      `s3:ListBucket on ${JSON.stringify({ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] })}`,
      `s3:GetObject on ${plans}`,
      `s3:PutObject,s3:AbortMultipartUpload on ${reports}`,
      `dynamodb:PutItem,dynamodb:GetItem,dynamodb:UpdateItem,dynamodb:Query on ${table}`,
      `sqs:SendMessage on ${jobsQueue}`,
      `sqs:ReceiveMessage,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ChangeMessageVisibility on ${jobsQueue}`,
    ].sort())
    expect(summary('DeadLettersRole')).toEqual([
      `dynamodb:PutItem,dynamodb:GetItem,dynamodb:UpdateItem,dynamodb:Query,dynamodb:ConditionCheckItem on ${table}`,
      `s3:GetObject on ${JSON.stringify([{ 'Fn::Sub': '${ImagesBucket.Arn}/flags/*' }, { 'Fn::Sub': '${ImagesBucket.Arn}/plans/*' }])}`,
      `s3:PutObject,s3:AbortMultipartUpload on ${reports}`,
      `sqs:SendMessage on ${jobsQueue}`,
      `sqs:ReceiveMessage,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ChangeMessageVisibility on ${JSON.stringify({ 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] })}`,
    ].sort())
    const everyResource = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Role')
      .flatMap((resource) => (resource.Properties as { Policies: { PolicyDocument: { Statement: Statement[] } }[] }).Policies)
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .flatMap((statement) => [statement.Resource].flat())
    expect(everyResource).not.toContain('*')
  })
})
