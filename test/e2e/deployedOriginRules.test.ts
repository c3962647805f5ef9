import { afterAll, beforeAll, describe, it } from 'vitest'
import { expectRefusal, postDownload } from '../support/downloadApi.ts'
import { startTestS3, type TestS3 } from '../support/localS3.ts'
import { startOffline, type Offline } from '../support/serverless.ts'

// Stage dev's origin rules, served by serverless-offline from a build folder of this file's own.
const BUILD_FOLDER = '.esbuild/dev-origin-rules-test'

let s3: TestS3

beforeAll(async () => {
  s3 = await startTestS3('imgpull-local-images')
})
afterAll(async () => {
  await s3.close()
})

describe('serverless-offline with a deployed stage\'s origin rules (stage dev)', () => {
  let offline: Offline

  beforeAll(async () => {
    // Only the bucket and S3 endpoint differ from a real deployment of dev.
    offline = await startOffline({
      localS3Endpoint: s3.endpoint,
      stage: 'dev',
      buildFolder: BUILD_FOLDER,
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
