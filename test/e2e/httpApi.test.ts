import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, jpegBytes, startOrigin, status, type OriginFixture } from '../../devkit/originFixture.ts'
import { expectRefusal, postDownload } from '../support/downloadApi.ts'
import { sharedEvent } from '../support/events.ts'
import { startTestS3, type TestS3 } from '../support/localS3.ts'
import { startOffline, type Offline } from '../support/serverless.ts'

// The HTTP API and the Lambda endpoint as serverless-offline serves stage local.
const BUILD_FOLDER = '.esbuild/local-http-test'
// Private addresses are allowlisted here so that the refusal shown is the address check's own.
const LOCAL_ALLOWED_HOSTS = 'i1.mifile.cn,127.0.0.1,localhost,10.0.0.1,172.16.0.1,192.168.1.1,169.254.169.254,fc00::1'

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

afterAll(async () => {
  await origin.close()
  await s3.close()
})

describe('serverless-offline, stage local, over HTTP', () => {
  let offline: Offline

  beforeAll(async () => {
    offline = await startOffline({ localS3Endpoint: s3.endpoint, params: { allowedHosts: LOCAL_ALLOWED_HOSTS }, buildFolder: BUILD_FOLDER })
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
    ['an array', '["a"]', /^body must be a JSON object, got an array$/],
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

  // serverless-offline parses a JSON body and hands the function no body at all for `null` or `""`
  // (API Gateway hands it the text as sent), so these go to the function as API Gateway's events.
  it.each([
    ['JSON null', 'null', 'got null'],
    ['the JSON string ""', '""', 'got a string'],
  ])('answers an HTTP API event whose body is %s with 400, not the empty request', async (_, body, got) => {
    const event = { ...(await sharedEvent<Record<string, unknown>>('download-http')), body }
    const response = await fetch(`${offline.lambdaUrl}/2015-03-31/functions/imgpull-local-download/invocations`, { method: 'POST', body: JSON.stringify(event) })
    const answer = (await response.json()) as { statusCode: number; body: string }
    expect(answer.statusCode).toBe(400)
    expect(JSON.parse(answer.body)).toEqual({ message: `body must be a JSON object, ${got}` })
  })

  it('gives a direct invoker of a null event a clear error, not the empty request', async () => {
    const response = await fetch(`${offline.lambdaUrl}/2015-03-31/functions/imgpull-local-download/invocations`, { method: 'POST', body: 'null' })
    const answer = (await response.json()) as { errorMessage: string }
    expect(answer.errorMessage).toBe('event must be a JSON object, got null')
  })
})
