import { S3Client } from '@aws-sdk/client-s3'
import { SignatureV4 } from '@smithy/signature-v4'
import type { IncomingHttpHeaders } from 'node:http'

// The SDK's own SHA-256, not the key-caching one the signed requests use.
const sdkSha256 = new S3Client({ region: 'us-east-1' }).config.sha256

/** A request as a server received it. */
export interface ReceivedRequest {
  readonly method: string
  /** Path and query, as sent. */
  readonly url: string
  readonly headers: IncomingHttpHeaders
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/

/**
 * What S3 would find wrong with a request's SigV4 signature, or undefined when it holds: the
 * signature computed again from what arrived (method, path, query and the headers it says it
 * signed) with the secret key, by the SDK's SHA-256 rather than the one the requests were signed with. The local S3 server does
 * not check SigV4, so tests check what it receives with this.
 */
export async function signatureProblem(
  request: ReceivedRequest,
  secretAccessKey: string,
  expected: { readonly region: string; readonly service: string },
): Promise<string | undefined> {
  const match = AUTHORIZATION.exec(String(request.headers['authorization'] ?? ''))
  if (match === null) return `no SigV4 Authorization header: ${String(request.headers['authorization'])}`
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = match as unknown as string[]
  if (region !== expected.region || service !== expected.service) return `signed for ${region}/${service}, not ${expected.region}/${expected.service}`
  const amzDate = String(request.headers['x-amz-date'] ?? '')
  if (!amzDate.startsWith(scopeDate!)) return `scope date ${scopeDate} is not the day of x-amz-date ${amzDate}`
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'))
  if (Number.isNaN(signingDate.getTime())) return `bad x-amz-date: ${amzDate}`
  const signedNames = signedHeaderList!.split(';')
  if (!signedNames.includes('host') || !signedNames.includes('x-amz-content-sha256')) return `host or x-amz-content-sha256 not signed: ${signedHeaderList}`
  const headers: Record<string, string> = {}
  for (const name of signedNames) {
    const value = request.headers[name]
    if (value === undefined) return `signed header ${name} was not sent`
    headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const url = new URL(request.url, `http://${headers['host']}`)
  const query: Record<string, string> = {}
  for (const [name, value] of url.searchParams) query[name] = value
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId!, secretAccessKey },
    region: region,
    service: service,
    sha256: sdkSha256,
    uriEscapePath: false,
    applyChecksum: false,
  })
  const resigned = await signer.sign(
    { method: request.method, protocol: url.protocol, hostname: url.hostname, path: url.pathname, query, headers },
    { signingDate, signableHeaders: new Set(signedNames) },
  )
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers['authorization']))?.[1]
  return expectedSignature === signature ? undefined : `signature ${signature} is not the expected ${expectedSignature}`
}
