import type { LookupAddress } from 'node:dns'
import { describe, expect, it } from 'vitest'
import type { LookupAll } from '../../lib/adapters/origin/httpImageSource.ts'
import { downloaderFor } from '../support/downloader.ts'
import { useIntegrationServers } from '../support/localS3.ts'
import { image, jpegBytes, startOrigin, status, type OriginFixture } from '../../devkit/originFixture.ts'

let origin: OriginFixture | undefined

const servers = useIntegrationServers()

/** DNS that answers each name from a script, one answer per lookup in turn; the last one repeats. */
function scriptedDns(answers: Record<string, string[]>): LookupAll & { lookups: string[] } {
  const lookups: string[] = []
  const asked = new Map<string, number>()
  const lookupAll = (hostname: string, _options: unknown, callback: (error: Error | null, addresses: LookupAddress[]) => void) => {
    lookups.push(hostname)
    const turn = asked.get(hostname) ?? 0
    asked.set(hostname, turn + 1)
    const script = answers[hostname]
    const address = script?.[Math.min(turn, script.length - 1)]
    if (address === undefined) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), [])
    callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])
  }
  return Object.assign(lookupAll as LookupAll, { lookups })
}

const redirect = (location: string) => status(302, '', { location })

describe('Origin guard over real HTTP', () => {
  it('follows up to three redirects on allowed hosts and stores the image found', async () => {
    const flag = jpegBytes(30)
    origin = servers.track(await startOrigin({
      '/moved.jpg': redirect('/r1'),
      '/r1': redirect('/r2'),
      '/r2': redirect('/final.jpg'),
      '/final.jpg': image(flag),
      '/loop.jpg': redirect('/l1'),
      '/l1': redirect('/l2'),
      '/l2': redirect('/l3'),
      '/l3': redirect('/final.jpg'),
    }))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl })({ codes: ['moved', 'loop'], prefix: 'flags/redirects/' })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 1 })
    expect(result.failures).toEqual([
      expect.objectContaining({ code: 'loop', reason: 'blocked', attempts: 1, message: 'origin: more than 3 redirects' }),
    ])
    expect((await servers.s3.getObject('flags/redirects/moved.jpg'))?.body).toEqual(flag)
    expect(origin.requests.filter((path) => path === '/final.jpg')).toHaveLength(1)
  })

  it('refuses a redirect to a host name that resolves to a private address, at connect time', async () => {
    origin = servers.track(await startOrigin({ '/a.jpg': redirect('http://intranet.test/secret.jpg') }))
    const dns = scriptedDns({ 'intranet.test': ['10.0.0.7'] })

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { ALLOWED_HOSTS: '127.0.0.1,intranet.test' }, lookupAll: dns })({
      codes: ['a'],
      prefix: 'flags/redirect-dns/',
    })

    expect(result.failures).toEqual([
      expect.objectContaining({
        code: 'a',
        reason: 'blocked',
        attempts: 1,
        message:
          'origin: refused to connect: intranet.test resolves to a non-public address: 10.0.0.7 is a private address, not a public one',
      }),
    ])
    expect(dns.lookups).toEqual(['intranet.test'])
  })

  it('refuses a redirect to an IPv4-compatible IPv6 literal of loopback, though its host is allowlisted', async () => {
    origin = servers.track(await startOrigin({ '/a.jpg': redirect('http://[::7f00:1]/secret.jpg') }))

    const result = await downloaderFor({ store: servers.s3, baseUrl: origin.baseUrl, env: { ALLOWED_HOSTS: '127.0.0.1,::7f00:1' } })({ codes: ['a'], prefix: 'flags/redirect-v6/' })

    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 1 })
    expect(result.failures).toEqual([
      expect.objectContaining({ code: 'a', reason: 'blocked', attempts: 1, message: expect.stringContaining('::7f00:1 is an IPv4-compatible address (of 127.0.0.1), not a public one') as string }),
    ])
    expect(origin.requests).toEqual(['/a.jpg'])
  })

  // A DNS answer in each IPv6 form of a loopback address, given when the connection is made (the
  // request's own check saw a public address): refused as blocked, never a crashed request.
  it.each([
    ['IPv4-compatible', '::7f00:1', 'IPv4-compatible address'],
    ['IPv4-mapped', '::ffff:7f00:1', 'loopback address'],
    ['IPv4-translated', '::ffff:0:7f00:1', 'rfc6145 address'],
    ['NAT64', '64:ff9b::7f00:1', 'rfc6052 address'],
    ['6to4', '2002:7f00:1::1', '6to4 address'],
    ['Teredo', '2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo address'],
  ])('refuses a host name that resolves to the %s form %s at connect time', async (_form, address, problem) => {
    const dns = scriptedDns({ 'embedded.test': ['93.184.216.34', address] })

    const result = await downloaderFor({ store: servers.s3, baseUrl: 'https://embedded.test', env: { STAGE: 'dev', MAX_ATTEMPTS: '1' }, lookupAll: dns })({
      codes: ['a'],
      prefix: 'flags/embedded/',
    })

    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 1 })
    expect(result.failures).toEqual([
      expect.objectContaining({ code: 'a', reason: 'blocked', message: expect.stringContaining(`embedded.test resolves to a non-public address: ${address} is a`) as string }),
    ])
    expect(result.failures[0]?.message).toContain(problem)
  })

  it('connects to the address its own check resolved, so a name that turns private after validation is refused', async () => {
    origin = servers.track(await startOrigin({ '/a.jpg': image(jpegBytes(31)) }))
    const port = new URL(origin.baseUrl).port
    // Public when the request is validated, loopback when the connection is made: DNS rebinding.
    const dns = scriptedDns({ 'rebind.test': ['93.184.216.34', '127.0.0.1'] })

    const result = await downloaderFor({ store: servers.s3, baseUrl: `https://rebind.test:${port}`, env: { STAGE: 'dev', MAX_ATTEMPTS: '1' }, lookupAll: dns })({
      codes: ['a'],
      prefix: 'flags/rebind/',
    })

    expect(result.failures).toEqual([
      expect.objectContaining({
        reason: 'blocked',
        message: expect.stringMatching(/refused to connect: rebind\.test resolves to a non-public address: 127\.0\.0\.1/) as string,
      }),
    ])
    expect(origin.connections).toBe(0)
  })

  it('connects through the guarded lookup to a name that resolves to an accepted address', async () => {
    origin = servers.track(await startOrigin({ '/a.jpg': image(jpegBytes(32)) }))
    const dns = scriptedDns({ 'images.test': ['127.0.0.1'] })
    const baseUrl = origin.baseUrl.replace('127.0.0.1', 'images.test')

    const result = await downloaderFor({ store: servers.s3, baseUrl, lookupAll: dns })({ codes: ['a'], prefix: 'flags/lookup/' })

    expect(result.counter).toEqual({ ok: 1, not_found: 0, error: 0 })
    expect(dns.lookups.length).toBeGreaterThanOrEqual(2)
  })

  it('counts codes of an origin whose name does not resolve as network errors, without refusing the request', async () => {
    const dns = scriptedDns({})
    const result = await downloaderFor({ store: servers.s3, baseUrl: 'https://gone.example.com/a1', env: { STAGE: 'dev', MAX_ATTEMPTS: '1' }, lookupAll: dns })({
      codes: ['a', 'b'],
      prefix: 'flags/nodns/',
    })
    expect(result.counter).toEqual({ ok: 0, not_found: 0, error: 2 })
    expect(result.failures.map((failure) => failure.reason)).toEqual(['network', 'network'])
  })

  it.each([
    ['a loopback address', 'https://127.0.0.1:9/a1', /^baseUrl: 127\.0\.0\.1 is a loopback address, not a public one$/],
    ['the IPv6 loopback', 'https://[::1]:9/a1', /^baseUrl: ::1 is a loopback address, not a public one$/],
    [
      'a host name resolving to 127.0.0.1 (real DNS)',
      'https://localhost:9/a1',
      // Either loopback address, whichever the machine's resolver lists first.
      /^baseUrl: host "localhost" resolves to a non-public address: (127\.0\.0\.1|::1) is a loopback address/,
    ],
  ])('outside stage local, refuses %s before any request leaves', async (_, baseUrl, message) => {
    const download = downloaderFor({ store: servers.s3, baseUrl: 'https://images.example.com/a1', env: {
      STAGE: 'dev',
      ALLOWED_HOSTS: 'images.example.com,127.0.0.1,::1,localhost',
    } })
    await expect(download({ baseUrl, codes: ['a'] })).rejects.toThrow(message)
  })
})
