import { PutObjectCommand } from '@aws-sdk/client-s3'
import pLimit from 'p-limit'
import { execFile } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { setTimeout } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, jpegBytes, startOrigin, status, type OriginFixture } from '../../devkit/originFixture.ts'
import { startTestS3, type TestS3 } from '../support/localS3.ts'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { firstPortInUse } from '../../devkit/processes.ts'
import { commandLine, descendants, isRunning, rssMiB, runNpm, until, type NpmRun } from '../support/processTree.ts'
import { freePort, projectRoot, runServerless, startOffline, type Offline } from '../support/serverless.ts'
import { unzipTo } from '../../devkit/zip.ts'
import { promisify } from 'node:util'

const run = promisify(execFile)

// One file for every Serverless CLI run: they share the project's build folder, so they run in turn.

let s3: TestS3
let origin: OriginFixture
const flag = jpegBytes(7)

beforeAll(async () => {
  // The stage local bucket name, as serverless.yml gives it to the functions.
  s3 = await startTestS3('imgpull-local-images')
  origin = await startOrigin({
    '/a.jpg': image(flag),
    '/hop.jpg': status(302, '', { location: 'http://10.0.0.1/a.jpg' }),
    '/metadata.jpg': status(301, '', { location: 'http://169.254.169.254/latest/meta-data/' }),
  })
})

/** POSTs a JSON body to /download, as `curl --json` does. */
function postDownload(httpUrl: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(`${httpUrl}/download`, { method: 'POST', headers: { 'content-type': contentType }, body })
}

async function expectRefusal(response: Response, statusCode: number, message: RegExp | string): Promise<void> {
  expect(response.status).toBe(statusCode)
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  const answer = (await response.json()) as { message: string }
  expect(Object.keys(answer)).toEqual(['message'])
  expect(answer.message).toMatch(message)
}

// Private addresses are allowlisted here so that the refusal shown is the address check's own.
const LOCAL_ALLOWED_HOSTS = 'i1.mifile.cn,127.0.0.1,localhost,10.0.0.1,172.16.0.1,192.168.1.1,169.254.169.254,fc00::1'
afterAll(async () => {
  await origin.close()
  await s3.close()
})

describe('serverless-offline, stage local, over HTTP', () => {
  let offline: Offline

  beforeAll(async () => {
    offline = await startOffline({ localS3Endpoint: s3.endpoint, params: { allowedHosts: LOCAL_ALLOWED_HOSTS } })
  })
  afterAll(async () => {
    await offline.stop()
  })

  it('serves the index page as HTML that may load nothing', async () => {
    const response = await fetch(`${offline.httpUrl}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none';/)
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    expect(response.headers.get('cache-control')).toBe('public, max-age=300')
    // Stage local serves the gallery: the index links it after its heading.
    expect(await response.text()).toBe('<h1>Index</h1><nav aria-label="Pages"><a href="/gallery">Gallery of stored images</a> · <a href="/gallery/jobs">Recent jobs</a></nav>')
  })

  it('greets a name, URL-decoded and HTML-escaped', async () => {
    const plain = await fetch(`${offline.httpUrl}/hello/big%20world`)
    expect(plain.status).toBe(200)
    expect(await plain.text()).toBe('<h1>hello, big world!</h1>')

    const hostile = await fetch(`${offline.httpUrl}/hello/${encodeURIComponent(`<script>alert('x')</script>&"`)}`)
    expect(hostile.headers.get('content-security-policy')).toMatch(/^default-src 'none';/)
    expect(await hostile.text()).toBe('<h1>hello, &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;!</h1>')
  })

  it('answers an unknown path or method with 404 or 405, not 500', async () => {
    const unknownPath = await fetch(`${offline.httpUrl}/nope`)
    expect([404, 405]).toContain(unknownPath.status)
    const unknownMethod = await fetch(`${offline.httpUrl}/`, { method: 'DELETE' })
    expect([404, 405]).toContain(unknownMethod.status)
  })

  it('downloads through POST /download into the local S3 and answers the counter', async () => {
    const response = await postDownload(
      offline.httpUrl,
      JSON.stringify({ baseUrl: origin.baseUrl, codes: ['A', 'error'], prefix: 'flags/e2e-http/' }),
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^application\/json/)
    const result = (await response.json()) as Record<string, unknown>
    expect(result).toMatchObject({
      counter: { ok: 1, not_found: 1, error: 0 },
      unchanged: 0,
      bytes: flag.length,
      total: 2,
      bucket: 'imgpull-local-images',
      prefix: 'flags/e2e-http/',
      failures: [{ code: 'error', status: 'not_found', reason: 'not_found', attempts: 1, httpStatus: 404 }],
    })
    expect(result['elapsedMs']).toBeTypeOf('number')
    expect(await s3.getObject('flags/e2e-http/a.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
  })

  it.each([
    ['not JSON', 'codes=a', /^body must be valid JSON$/],
    ['an array', '["a"]', /^request must be a JSON object$/],
    ['codes of the wrong type', '{"codes":"a"}', /^codes: must be an array of strings$/],
    ['a code of the wrong type', '{"codes":[1]}', /^codes\[0\]: must be a string$/],
    ['an empty codes list', '{"codes":[]}', /^codes: must not be empty$/],
    ['a concurrency out of range', '{"concurrency":129}', /^concurrency: /],
    ['a force of the wrong type', '{"force":"yes"}', /^force: must be true or false$/],
    ['an unknown field', '{"code":["a"]}', /^unknown field "code"$/],
    ['a code climbing out of the prefix', '{"codes":["../x"]}', /^codes\[0\] "\.\.\/x": may only contain/],
    ['a code with a slash', '{"codes":["a/b"]}', /^codes\[0\] "a\/b": may only contain/],
    ['an empty code', '{"codes":[""]}', /^codes\[0\] "": must not be empty$/],
    ['a 129-character code', JSON.stringify({ codes: ['x'.repeat(129)] }), /^codes\[0\] "x{40}": must be at most 128 characters$/],
    ['a unicode code', '{"codes":["été"]}', /^codes\[0\] "été": may only contain/],
    ['a code with a NUL', '{"codes":["a\\u0000b"]}', /^codes\[0\] "a\\u0000b": may only contain/],
    ['a code of dots', '{"codes":[".."]}', /^codes\[0\] "\.\.": must not be/],
    ['a prefix outside KEY_PREFIX', '{"prefix":"cats/"}', /^prefix: must start with "flags\/"$/],
  ])('answers a body with %s with 400 and a JSON message', async (_, body, message) => {
    await expectRefusal(await postDownload(offline.httpUrl, body), 400, message)
  })

  it('answers a body that is not declared as JSON with 415', async () => {
    await expectRefusal(await postDownload(offline.httpUrl, '{"codes":["a"]}', 'text/plain'), 415, /^body must be JSON/)
  })

  it('answers a body over the size cap with 413', async () => {
    const huge = JSON.stringify({ codes: Array.from({ length: 30_000 }, (_, i) => `code-${i}`) })
    await expectRefusal(await postDownload(offline.httpUrl, huge), 413, /^body must be at most 262144 bytes$/)
  })

  it.each([
    ['a 10/8 address', 'http://10.0.0.1/a1', '10.0.0.1 is a private address, not a public one'],
    ['a 172.16/12 address', 'http://172.16.0.1/a1', '172.16.0.1 is a private address, not a public one'],
    ['a 192.168/16 address', 'http://192.168.1.1/a1', '192.168.1.1 is a private address, not a public one'],
    ['the metadata address', 'http://169.254.169.254/latest', '169.254.169.254 is a linkLocal address, not a public one'],
    ['an fc00::/7 address', 'http://[fc00::1]/a1', 'fc00::1 is a uniqueLocal address, not a public one'],
    ['a file: URL', 'file:///etc/passwd', 'must use http or https'],
    ['an ftp: URL', 'ftp://127.0.0.1/a1', 'must use http or https'],
    ['credentials in the URL', 'http://user:secret@127.0.0.1/a1', 'must not contain credentials'],
    ['a host not on the allowlist', 'https://evil.example.net/a1', 'host "evil.example.net" is not in ALLOWED_HOSTS'],
  ])('refuses a baseUrl with %s with 400 before any request leaves', async (_, baseUrl, message) => {
    const seen = origin.requests.length
    await expectRefusal(await postDownload(offline.httpUrl, JSON.stringify({ baseUrl, codes: ['a'] })), 400, `baseUrl: ${message}`)
    expect(origin.requests.length).toBe(seen)
  })

  it('follows no redirect to a private or metadata address, and counts it as blocked', async () => {
    const response = await postDownload(
      offline.httpUrl,
      JSON.stringify({ baseUrl: origin.baseUrl, codes: ['hop', 'metadata'], prefix: 'flags/e2e-redirect/' }),
    )
    expect(response.status).toBe(200)
    const result = (await response.json()) as { counter: unknown; failures: { code: string; reason: string; message: string }[] }
    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 2 })
    expect(result.failures.map(({ code, reason, message }) => ({ code, reason, message }))).toEqual([
      {
        code: 'hop',
        reason: 'blocked',
        message: 'origin: redirect to http://10.0.0.1 refused: 10.0.0.1 is a private address, not a public one',
      },
      {
        code: 'metadata',
        reason: 'blocked',
        message: 'origin: redirect to http://169.254.169.254 refused: 169.254.169.254 is a linkLocal address, not a public one',
      },
    ])
  })

  it('runs download when invoked through the Lambda endpoint', async () => {
    const response = await fetch(`${offline.lambdaUrl}/2015-03-31/functions/imgpull-local-download/invocations`, {
      method: 'POST',
      body: JSON.stringify({ baseUrl: origin.baseUrl, codes: ['a', 'b'], concurrency: 1, prefix: 'flags/e2e-invoke/' }),
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ counter: { ok: 1, not_found: 1, error: 0 }, total: 2 })
    expect(await s3.getObject('flags/e2e-invoke/a.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
  })

  it('gives a direct invoker a clear error for a bad event', async () => {
    const response = await fetch(`${offline.lambdaUrl}/2015-03-31/functions/imgpull-local-download/invocations`, {
      method: 'POST',
      body: JSON.stringify({ concurrency: 0 }),
    })
    const answer = (await response.json()) as { errorMessage: string }
    expect(answer.errorMessage).toBe('concurrency: must be an integer from 1 to 128')
  })
})

describe('serverless-offline with a deployed stage\'s origin rules (stage dev)', () => {
  let offline: Offline

  beforeAll(async () => {
    // Only the bucket and S3 endpoint differ from a real deployment of dev.
    offline = await startOffline({
      localS3Endpoint: s3.endpoint,
      stage: 'dev',
      params: { bucketName: 'imgpull-local-images', localS3Endpoint: s3.endpoint, allowedHosts: 'i1.mifile.cn,127.0.0.1,::1,localhost' },
    })
  })
  afterAll(async () => {
    await offline.stop()
  })

  it.each([
    ['a loopback address', 'https://127.0.0.1:8443/a1', /^baseUrl: 127\.0\.0\.1 is a loopback address, not a public one$/],
    ['the IPv6 loopback address', 'https://[::1]:8443/a1', /^baseUrl: ::1 is a loopback address, not a public one$/],
    [
      'a host name that resolves to 127.0.0.1',
      'https://localhost:8443/a1',
      // Either loopback address, whichever the machine's resolver lists first.
      /^baseUrl: host "localhost" resolves to a non-public address: (127\.0\.0\.1|::1) is a loopback address/,
    ],
    ['plain http', 'http://i1.mifile.cn/a1', /^baseUrl: must use https$/],
  ])('refuses a baseUrl with %s with 400', async (_, baseUrl, message) => {
    await expectRefusal(await postDownload(offline.httpUrl, JSON.stringify({ baseUrl, codes: ['a'] })), 400, message)
  })
})

/** `invoke local` output: the one-line JSON logs and metrics, and the result it prints last, indented. */
function invokeOutput(output: string): { lines: Record<string, unknown>[]; result: Record<string, unknown> } {
  const rows = output.split('\n')
  const lines = rows.filter((row) => row.startsWith('{') && row.endsWith('}')).map((row) => JSON.parse(row) as Record<string, unknown>)
  const start = rows.lastIndexOf('{')
  const end = rows.indexOf('}', start)
  const result = start === -1 ? {} : (JSON.parse(rows.slice(start, end + 1).join('\n')) as Record<string, unknown>)
  return { lines, result }
}

describe('serverless invoke local with the shared events', () => {
  it('renders the index page from events/web-index.json', async () => {
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'web', '--path', 'events/web-index.json'])
    expect(code).toBe(0)
    expect(stdout).toContain('"statusCode": 200')
    expect(stdout).toContain('<h1>Index</h1>')
  })

  it('escapes the name from events/web-hello.json', async () => {
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'web', '--path', 'events/web-hello.json'])
    expect(code).toBe(0)
    expect(stdout).toContain('&lt;script&gt;world')
    expect(stdout).not.toContain('<script>')
  })

  it('runs a direct download into the local S3', async () => {
    const data = JSON.stringify({ baseUrl: origin.baseUrl, codes: ['a', 'zz'], prefix: 'flags/e2e-local/' })
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'download', '--data', data], { localS3Endpoint: s3.endpoint })
    expect(code).toBe(0)
    const { result } = invokeOutput(stdout)
    expect(result['counter']).toEqual({ ok: 1, not_found: 1, error: 0 })
    expect(await s3.getObject('flags/e2e-local/a.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
  })

  it('logs JSON lines carrying the request id and function name, and metrics with the trigger', async () => {
    const schedule = JSON.parse(await readFile('events/jobs-schedule.json', 'utf8')) as Record<string, unknown>
    const data = JSON.stringify({ ...schedule, detail: { baseUrl: origin.baseUrl, codes: ['a', 'zz'], prefix: 'flags/e2e-logs/' } })
    const { code, stdout, stderr } = await runServerless(['invoke', 'local', '-f', 'download', '--data', data], { localS3Endpoint: s3.endpoint })
    expect(code).toBe(0)

    const { lines } = invokeOutput(`${stdout}\n${stderr}`)
    const logs = lines.filter((line) => 'level' in line)
    expect(logs.map((line) => line['message']).sort()).toEqual(['batch finished', 'image failed'])
    for (const line of logs) {
      expect(line).toMatchObject({ service: 'imgpull', function_name: 'imgpull-local-download' })
      expect(line['function_request_id']).toEqual(expect.any(String))
    }
    expect(logs.find((line) => line['message'] === 'image failed')).toMatchObject({ code: 'zz', reason: 'not_found', attempts: 1 })
    expect(logs.find((line) => line['message'] === 'batch finished')).toMatchObject({
      trigger: 'schedule',
      counter: { ok: 1, not_found: 1, error: 0 },
      bytes: flag.length,
    })
    const emf = lines.find((line) => '_aws' in line)
    expect(emf).toMatchObject({ trigger: 'schedule', ok: 1, notFound: 1, error: 0, bytesStored: flag.length })
  })
})

// The batch an operator configures for the prod schedule.
const SCHEDULED_REQUEST = { baseUrl: 'https://i1.mifile.cn/a1', codes: ['cn', 'fr'], concurrency: 2 }

describe('serverless package --stage prod', () => {
  let packageDir: string
  let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }

  beforeAll(async () => {
    packageDir = await mkdtemp(join(tmpdir(), 'imgpull-package-'))
    const { code, stderr, stdout } = await runServerless([
      'package',
      '--stage',
      'prod',
      '--package',
      packageDir,
      '--param=scheduleEnabled=true',
      `--param=scheduleRequest=${JSON.stringify(SCHEDULED_REQUEST)}`,
    ])
    if (code !== 0) throw new Error(`package failed:\n${stdout}\n${stderr}`)
    template = JSON.parse(await readFile(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as typeof template
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
    const summary = (role: string) =>
      policyOf(role)
        .filter((statement) => !statement.Action.every((action) => action.startsWith('logs:')))
        .map((statement) => `${statement.Action.join(',')} on ${JSON.stringify(statement.Resource)}`)
    for (const [fn, role] of [['Jobs', 'JobsRole'], ['JobStatus', 'JobStatusRole'], ['Worker', 'WorkerRole'], ['DeadLetters', 'DeadLettersRole']]) {
      expect(template.Resources[`${fn}LambdaFunction`]?.Properties['Role']).toEqual({ 'Fn::GetAtt': [role, 'Arn'] })
      const logs = policyOf(role!).filter((statement) => statement.Action.every((action) => action.startsWith('logs:')))
      expect(JSON.stringify(logs.map((statement) => statement.Resource))).toContain(`log-group:/aws/lambda/imgpull-prod-${fn!.charAt(0).toLowerCase()}${fn!.slice(1)}:*`)
    }
    const table = JSON.stringify({ 'Fn::GetAtt': ['JobsTable', 'Arn'] })
    expect(summary('JobStatusRole')).toEqual([`dynamodb:GetItem on ${table}`])
    expect(summary('JobsRole')).toEqual([
      `dynamodb:PutItem,dynamodb:GetItem,dynamodb:UpdateItem,dynamodb:Query on ${table}`,
      `sqs:SendMessage on ${JSON.stringify({ 'Fn::GetAtt': ['JobsQueue', 'Arn'] })}`,
      `sqs:SendMessage on ${JSON.stringify({ 'Fn::GetAtt': ['ScheduleFailuresQueue', 'Arn'] })}`,
      `s3:GetObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/manifests/*' })}`,
      `s3:ListBucket on ${JSON.stringify({ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] })}`,
      `s3:PutObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/reports/*' })}`,
    ])
    const listings = policyOf('JobsRole').filter((statement) => statement.Action.includes('s3:ListBucket'))
    expect(listings.map((statement) => statement.Condition)).toEqual([{ StringLike: { 's3:prefix': 'manifests/*' } }])
    expect(summary('WorkerRole')).toEqual([
      `s3:PutObject,s3:AbortMultipartUpload,s3:GetObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/flags/*' })}`,
      `s3:ListBucket on ${JSON.stringify({ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] })}`,
      `s3:PutObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/reports/*' })}`,
      `dynamodb:PutItem,dynamodb:GetItem,dynamodb:UpdateItem,dynamodb:Query on ${table}`,
      `sqs:ReceiveMessage,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ChangeMessageVisibility on ${JSON.stringify({ 'Fn::GetAtt': ['JobsQueue', 'Arn'] })}`,
    ])
    expect(summary('DeadLettersRole')).toEqual([
      `dynamodb:PutItem,dynamodb:GetItem,dynamodb:UpdateItem,dynamodb:Query on ${table}`,
      `s3:PutObject on ${JSON.stringify({ 'Fn::Sub': '${ImagesBucket.Arn}/reports/*' })}`,
      `sqs:ReceiveMessage,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ChangeMessageVisibility on ${JSON.stringify({ 'Fn::GetAtt': ['JobsDeadLetterQueue', 'Arn'] })}`,
    ])
    const everyResource = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::IAM::Role')
      .flatMap((resource) => (resource.Properties as { Policies: { PolicyDocument: { Statement: Statement[] } }[] }).Policies)
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .flatMap((statement) => [statement.Resource].flat())
    expect(everyResource).not.toContain('*')
  })
})

describe('the gallery on a deployed stage', () => {
  type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }
  const routesOf = (template: Template) =>
    Object.fromEntries(
      Object.values(template.Resources)
        .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
        .map((resource) => [String(resource.Properties['RouteKey']), resource.Properties['AuthorizationType'] ?? 'NONE']),
    )
  const webActions = (template: Template) =>
    (template.Resources['WebRole']?.Properties as { Policies: { PolicyDocument: { Statement: { Action: string[] }[] } }[] }).Policies.flatMap(
      (policy) => policy.PolicyDocument.Statement.flatMap((statement) => statement.Action),
    )

  async function packaged(params: string[]): Promise<Template> {
    const packageDir = await mkdtemp(join(tmpdir(), 'imgpull-package-'))
    try {
      const { code, stdout, stderr } = await runServerless(['package', '--stage', 'prod', '--package', packageDir, ...params])
      if (code !== 0) throw new Error(`package failed:\n${stdout}\n${stderr}`)
      return JSON.parse(await readFile(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template
    } finally {
      await rm(packageDir, { recursive: true, force: true })
    }
  }

  it('is not deployed without an authorizer, and the web role then reads nothing', async () => {
    const template = await packaged([])
    expect(Object.keys(routesOf(template)).filter((route) => route.includes('/gallery'))).toEqual([])
    expect(webActions(template)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents'])
    expect((template.Resources['WebLambdaFunction']?.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables['GALLERY']).toBe('off')
  })

  it('is deployed behind the operator\'s JWT authorizer, with read-only access to the images and jobs', async () => {
    const issuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example'
    const template = await packaged(['--param=galleryAccess=jwt', `--param=galleryJwtIssuer=${issuer}`, '--param=galleryJwtAudience=imgpull-web'])
    expect(routesOf(template)).toMatchObject({ 'GET /': 'NONE', 'GET /gallery': 'JWT', 'GET /gallery/{proxy+}': 'JWT', 'GET /gallery/assets/{file}': 'NONE' })
    const authorizer = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Authorizer')
    expect(authorizer?.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'], JwtConfiguration: { Issuer: issuer, Audience: ['imgpull-web'] } })
    expect(webActions(template)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:ListBucket', 'dynamodb:GetItem', 'dynamodb:Query'])
    expect(JSON.stringify(template.Resources['WebRole'])).not.toMatch(/"\*"|s3:Put|dynamodb:(Put|Update)/)
  })

  it('refuses to ship the gallery open on a deployed stage', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=galleryAccess=open'])
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('/gallery would be public on a deployed stage')
  })
})

describe('stage local never leaves this machine', () => {
  it.each([
    ['package with no stage', ['package']],
    ['deploy with no stage', ['deploy']],
    ['deploy of stage local', ['deploy', '--stage', 'local']],
    ['deploy of one function', ['deploy', 'function', '-f', 'download']],
  ])('refuses %s at once, naming the stages to use', async (_, args) => {
    const { code, stdout, stderr } = await runServerless(args)
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('Stage "local" only runs on this machine')
    expect(`${stdout}${stderr}`).toContain('--stage dev')
    // Refused before anything is built or any AWS credential is looked for.
    expect(`${stdout}${stderr}`).not.toMatch(/credentials|Bundling|Service packaged/i)
  })

  it('refuses to ship an enabled schedule that names no batch of the operator\'s', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=scheduleEnabled=true'])
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('the schedule is enabled (param scheduleEnabled) but param scheduleRequest names no codes')
  })

  it('refuses a jobs queue whose visibility timeout is under six worker timeouts', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=jobsVisibilityTimeout=600'])
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('function worker: queue JobsQueue has a visibility timeout of 600 s, under 6 times the function\'s timeout of 120 s')
  })

  it('refuses a schedule batch that is not JSON', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=scheduleRequest={"codes":['])
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('param scheduleRequest must be a JSON object')
  })
})

describe('npm start', () => {
  let started: NpmRun
  let dataDir: string
  let probeDir: string
  const ports = { s3: 0, sqs: 0, dynamoDb: 0, http: 0, lambda: 0 }

  beforeAll(async () => {
    ports.s3 = await freePort()
    ports.sqs = await freePort()
    ports.dynamoDb = await freePort()
    ports.http = await freePort()
    ports.lambda = await freePort()
    dataDir = await mkdtemp(join(tmpdir(), 'imgpull-start-s3-'))
    // A folder of local files inside the project, as a newcomer's own data or scratch would be.
    probeDir = await mkdtemp(join(projectRoot, '.probe-'))
    started = runNpm('start', projectRoot, {
      IMGPULL_LOCAL_S3_PORT: String(ports.s3),
      IMGPULL_LOCAL_SQS_PORT: String(ports.sqs),
      IMGPULL_LOCAL_DYNAMODB_PORT: String(ports.dynamoDb),
      IMGPULL_HTTP_PORT: String(ports.http),
      IMGPULL_LAMBDA_PORT: String(ports.lambda),
      IMGPULL_LOCAL_S3_DIR: dataDir,
    })
    await until('serverless-offline to be ready', () => started.output().includes('Server ready'), 90_000)
  })
  afterAll(async () => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
    await rm(probeDir, { recursive: true, force: true })
  })

  it('keeps serverless-offline bounded and answering while thousands of objects land in the local S3 and the tree', async () => {
    const offlinePid = descendants(started.child.pid!).find((pid) => commandLine(pid).includes('offline start'))
    expect(offlinePid).toBeDefined()
    const atRest = rssMiB(offlinePid!)

    const client = createS3Client({ localEndpoint: `http://127.0.0.1:${ports.s3}` })
    const keys = Array.from({ length: 3000 }, (_, i) => `flags/many/${i}.jpg`)
    const put = pLimit(32)
    await Promise.all(keys.map((key) => put(() => client.send(new PutObjectCommand({ Bucket: 'imgpull-local-images', Key: key, Body: flag })))))
    client.destroy()
    await Promise.all(Array.from({ length: 3000 }, (_, i) => writeFile(join(probeDir, `${i}.txt`), 'x')))

    // Watch the process for a while after the writes: a watcher walking them grows by hundreds of MB a second.
    let peak = atRest
    let slowestPageMs = 0
    for (let sample = 0; sample < 15; sample += 1) {
      const startedAt = performance.now()
      const page = await fetch(`http://127.0.0.1:${ports.http}/`)
      expect(await page.text()).toMatch(/^<h1>Index<\/h1>/)
      slowestPageMs = Math.max(slowestPageMs, performance.now() - startedAt)
      peak = Math.max(peak, rssMiB(offlinePid!))
      await setTimeout(200)
    }
    expect(peak - atRest).toBeLessThan(200)
    expect(slowestPageMs).toBeLessThan(2000)
    expect(readdirSync(join(dataDir, 'imgpull-local-images', 'flags', 'many')).length).toBeGreaterThanOrEqual(3000)
  })

  it('still rebuilds the functions when a source under lib/ changes', async () => {
    // The bundle's map follows source lines, so a comment line put first changes it and nothing else.
    const map = join(projectRoot, '.esbuild', 'local', '.build', 'handlers', 'web.cjs.map')
    const builtAt = statSync(map).mtimeMs
    const source = join(projectRoot, 'lib', 'web', 'pages.ts')
    const original = await readFile(source, 'utf8')
    try {
      await writeFile(source, `// a change the watcher must see\n${original}`)
      await until('the web bundle to be rebuilt', () => statSync(map).mtimeMs > builtAt, 15_000)
    } finally {
      await writeFile(source, original)
    }
    expect(await (await fetch(`http://127.0.0.1:${ports.http}/`)).text()).toMatch(/^<h1>Index<\/h1>/)
  })

  it('keeps answering while a deployed stage is packaged beside it', async () => {
    const packageDir = await mkdtemp(join(tmpdir(), 'imgpull-package-'))
    try {
      const packaged = await runServerless(['package', '--stage', 'prod', '--package', packageDir])
      expect(packaged.code).toBe(0)
    } finally {
      await rm(packageDir, { recursive: true, force: true })
    }
    expect(await (await fetch(`http://127.0.0.1:${ports.http}/hello/still`)).text()).toBe('<h1>hello, still!</h1>')
  })

  it('runs a job through its local queue, table and pollers, from POST /jobs to the report', async () => {
    const codes = Array.from({ length: 120 }, (_, i) => `s${i}`)
    const origin = await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(jpegBytes(7, 300))])))
    try {
      const response = await fetch(`http://127.0.0.1:${ports.http}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ codes: [...codes, 'absent'], baseUrl: origin.baseUrl, prefix: 'flags/started-job/' }),
      })
      expect(response.status).toBe(202)
      const { jobId, statusUrl } = (await response.json()) as { jobId: string; statusUrl: string }
      expect(statusUrl).toBe(`http://127.0.0.1:${ports.http}/jobs/${jobId}`)
      type Job = { state: string; counter: unknown; reportKey: string }
      let job: Job | undefined
      await until('the job to be done', async () => {
        job = (await (await fetch(statusUrl)).json()) as Job
        return job.state === 'done'
      }, 60_000)
      expect(job?.counter).toEqual({ ok: 120, not_found: 1, error: 0 })
      const report = await fetch(`http://127.0.0.1:${ports.s3}/imgpull-local-images/${job?.reportKey}`)
      expect(await report.text()).toBe('code,status,reason,attempts,httpStatus,message\nabsent,not_found,not_found,1,404,not found\n')
    } finally {
      await origin.close()
    }
  })

  it('says in one line which port is taken when started twice', async () => {
    const second = runNpm('start', projectRoot, { IMGPULL_LOCAL_S3_PORT: String(ports.s3), IMGPULL_LOCAL_S3_DIR: dataDir })
    expect(await second.exit).toBe(1)
    const lines = second.output().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'))
    expect(lines).toEqual([
      `port ${ports.s3} (local S3) is already in use on 127.0.0.1: stop whatever holds it, or move it with IMGPULL_LOCAL_S3_PORT, ` +
        'IMGPULL_LOCAL_SQS_PORT, IMGPULL_LOCAL_DYNAMODB_PORT, IMGPULL_HTTP_PORT or IMGPULL_LAMBDA_PORT',
    ])
  })

  it('stops the local S3, SQS and DynamoDB, serverless-offline and esbuild on a SIGTERM to npm alone', async () => {
    const below = descendants(started.child.pid!)
    expect(below.map(commandLine)).toEqual(
      expect.arrayContaining([expect.stringContaining('scripts/start.ts'), expect.stringContaining('offline start'), expect.stringContaining('esbuild')]),
    )
    started.child.kill('SIGTERM')
    expect(await started.exit).toBe(0)
    await until('every process below npm to end', () => below.every((pid) => !isRunning(pid)), 10_000)
    expect(await firstPortInUse([
      { port: ports.s3, what: 'local S3' },
      { port: ports.sqs, what: 'local SQS' },
      { port: ports.dynamoDb, what: 'local DynamoDB' },
      { port: ports.http, what: 'HTTP API' },
      { port: ports.lambda, what: 'Lambda endpoint' },
    ])).toBeUndefined()
  })
})
