import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, jpegBytes, startOrigin, type OriginFixture } from '../support/originFixture.ts'
import { startTestS3, type TestS3 } from '../support/localS3.ts'
import { runServerless, startOffline, type Offline } from '../support/serverless.ts'

// One file for every Serverless CLI run: they share the project's build folder, so they run in turn.

let s3: TestS3
let origin: OriginFixture
const flag = jpegBytes(7)

beforeAll(async () => {
  // The stage local bucket name, as serverless.yml gives it to the functions.
  s3 = await startTestS3('imgpull-local-images')
  origin = await startOrigin({ '/a.jpg': image(flag) })
})
afterAll(async () => {
  await origin.close()
  await s3.close()
})

describe('serverless-offline, stage local, over HTTP', () => {
  let offline: Offline

  beforeAll(async () => {
    offline = await startOffline(s3.endpoint)
  })
  afterAll(async () => {
    await offline.stop()
  })

  it('serves the index page as HTML', async () => {
    const response = await fetch(`${offline.httpUrl}/`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await response.text()).toBe('<h1>Index</h1>')
  })

  it('greets a name, URL-decoded and HTML-escaped', async () => {
    const plain = await fetch(`${offline.httpUrl}/hello/big%20world`)
    expect(plain.status).toBe(200)
    expect(await plain.text()).toBe('<h1>hello, big world!</h1>')

    const hostile = await fetch(`${offline.httpUrl}/hello/%3Cscript%3Ealert(1)%3C%2Fscript%3E`)
    const page = await hostile.text()
    expect(page).not.toContain('<script')
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('answers an unknown path or method with 404 or 405, not 500', async () => {
    const unknownPath = await fetch(`${offline.httpUrl}/nope`)
    expect([404, 405]).toContain(unknownPath.status)
    const unknownMethod = await fetch(`${offline.httpUrl}/`, { method: 'DELETE' })
    expect([404, 405]).toContain(unknownMethod.status)
  })

  it('downloads through POST /download into the local S3 and answers the counter', async () => {
    // As the README's curl sends it: no content-type header.
    const response = await fetch(`${offline.httpUrl}/download`, {
      method: 'POST',
      body: JSON.stringify({ baseUrl: origin.baseUrl, codes: ['A', 'error'], prefix: 'flags/e2e-http/' }),
    })
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
    ['a wrong type', '{"codes":"a"}', /^codes: /],
    ['an empty codes list', '{"codes":[]}', /^codes: must not be empty$/],
    ['a concurrency out of range', '{"concurrency":65}', /^concurrency: /],
  ])('answers a body with %s with 400 and a JSON message', async (_, body, message) => {
    const response = await fetch(`${offline.httpUrl}/download`, { method: 'POST', body })
    expect(response.status).toBe(400)
    const answer = (await response.json()) as { message: string }
    expect(Object.keys(answer)).toEqual(['message'])
    expect(answer.message).toMatch(message)
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
    expect(answer.errorMessage).toBe('concurrency: must be an integer from 1 to 64')
  })
})

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
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'download', '--data', data], s3.endpoint)
    expect(code).toBe(0)
    const result = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { counter: unknown }
    expect(result.counter).toEqual({ ok: 1, not_found: 1, error: 0 })
    expect(await s3.getObject('flags/e2e-local/a.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
  })
})

describe('serverless package --stage prod', () => {
  let packageDir: string
  let template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }

  beforeAll(async () => {
    packageDir = await mkdtemp(join(tmpdir(), 'imgpull-package-'))
    const { code, stderr, stdout } = await runServerless(['package', '--stage', 'prod', '--package', packageDir])
    if (code !== 0) throw new Error(`package failed:\n${stdout}\n${stderr}`)
    template = JSON.parse(await readFile(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')) as typeof template
  })
  afterAll(async () => {
    await rm(packageDir, { recursive: true, force: true })
  })

  it('produces one small zip per function', async () => {
    const web = await stat(join(packageDir, 'web.zip'))
    const download = await stat(join(packageDir, 'download.zip'))
    expect(web.size).toBeLessThan(100 * 1024)
    expect(download.size).toBeLessThan(1024 * 1024)
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
    expect(policy.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    )
  })

  it('lets the download role read and write only under the key prefix of the bucket', () => {
    const role = template.Resources['DownloadRole']?.Properties as {
      Policies: { PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] } }[]
    }
    const statements = role.Policies.flatMap((policy) => policy.PolicyDocument.Statement)
    const s3Statements = statements.filter((statement) => statement.Action.some((action) => action.startsWith('s3:')))
    expect(s3Statements).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'], Resource: { 'Fn::Sub': '${ImagesBucket.Arn}/flags/*' } },
    ])
    expect(template.Resources['DownloadLambdaFunction']?.Properties['Role']).toEqual({ 'Fn::GetAtt': ['DownloadRole', 'Arn'] })
  })

  it('wires download to POST /download and to a schedule carrying its batch', () => {
    const routes = Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((resource) => resource.Properties['RouteKey'])
    expect(routes.sort()).toEqual(['GET /', 'GET /hello/{name}', 'POST /download'])
    const rule = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::Events::Rule')
    const target = (rule?.Properties['Targets'] as { Input: string }[])[0]
    expect(JSON.parse(target?.Input ?? '{}')).toHaveProperty('codes')
  })
})
