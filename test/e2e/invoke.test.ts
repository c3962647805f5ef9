import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, jpegBytes, startOrigin, type OriginFixture } from '../../devkit/originFixture.ts'
import { startTestS3, type TestS3 } from '../support/localS3.ts'
import { runServerless } from '../support/serverless.ts'

// Each `invoke local` bundles the function it runs, into a build folder of this file's own.
const BUILD_FOLDER = '.esbuild/local-invoke-test'

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
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'web', '--path', 'events/web-index.json'], { buildFolder: BUILD_FOLDER })
    expect(code).toBe(0)
    expect(stdout).toContain('"statusCode": 200')
    expect(stdout).toContain('<h1>Index</h1>')
  })

  it('escapes the name from events/web-hello.json', async () => {
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'web', '--path', 'events/web-hello.json'], { buildFolder: BUILD_FOLDER })
    expect(code).toBe(0)
    expect(stdout).toContain('&lt;script&gt;world')
    expect(stdout).not.toContain('<script>')
  })

  it('runs a direct download into the local S3', async () => {
    const data = JSON.stringify({ baseUrl: origin.baseUrl, codes: ['a', 'zz'], prefix: 'flags/e2e-local/' })
    const { code, stdout } = await runServerless(['invoke', 'local', '-f', 'download', '--data', data], { localS3Endpoint: s3.endpoint, buildFolder: BUILD_FOLDER })
    expect(code).toBe(0)
    const { result } = invokeOutput(stdout)
    expect(result['counter']).toEqual({ ok: 1, not_found: 1, error: 0 })
    expect(await s3.getObject('flags/e2e-local/a.jpg')).toEqual({ body: flag, contentType: 'image/jpeg' })
  })

  it('logs JSON lines carrying the request id and function name, and metrics with the trigger', async () => {
    const schedule = JSON.parse(await readFile('events/jobs-schedule.json', 'utf8')) as Record<string, unknown>
    const data = JSON.stringify({ ...schedule, detail: { baseUrl: origin.baseUrl, codes: ['a', 'zz'], prefix: 'flags/e2e-logs/' } })
    const { code, stdout, stderr } = await runServerless(['invoke', 'local', '-f', 'download', '--data', data], { localS3Endpoint: s3.endpoint, buildFolder: BUILD_FOLDER })
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
