import { describe, expect, it } from 'vitest'
import { addressProblem, resolvedHostProblem, urlProblem, type OriginPolicy } from '../../../lib/security/originPolicy.ts'

const deployed: OriginPolicy = { allowedHosts: ['images.example.com', '*.cdn.example.org', '93.184.216.34'], localOrigins: false }
const local: OriginPolicy = { ...deployed, allowedHosts: [...deployed.allowedHosts, '127.0.0.1', 'localhost'], localOrigins: true }

describe('Function: addressProblem', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.0.1', 'private'],
    ['::ffff:192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.170.2', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:a00:1::', '6to4'],
  ])('refuses %s, a %s address', (address, range) => {
    expect(addressProblem(address, deployed)).toBe(`${address} is a ${range} address, not a public one`)
  })

  // Each IPv6 form that carries an IPv4 address, with a non-public one inside: a network that
  // routes the form reaches the IPv4 host.
  it.each([
    ['::7f00:1', 'IPv4-compatible', /IPv4-compatible address \(of 127\.0\.0\.1\)/],
    ['::a9fe:a9fe', 'IPv4-compatible', /IPv4-compatible address \(of 169\.254\.169\.254\)/],
    ['::a00:1', 'IPv4-compatible', /IPv4-compatible address \(of 10\.0\.0\.1\)/],
    ['::ffff:7f00:1', 'IPv4-mapped, hex', /is a loopback address/],
    ['::ffff:169.254.169.254', 'IPv4-mapped', /is a linkLocal address/],
    ['::ffff:0:a00:1', 'IPv4-translated (RFC 6145)', /rfc6145 address/],
    ['64:ff9b::7f00:1', 'NAT64', /rfc6052 address/],
    ['64:ff9b:1::a9fe:a9fe', 'NAT64, local-use', /rfc6052 address/],
    ['2002:7f00:1::1', '6to4', /6to4 address/],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'Teredo', /teredo address/],
  ])('refuses %s, the %s form of a non-public IPv4 address', (address, _form, problem) => {
    expect(addressProblem(address, deployed)).toMatch(problem)
  })

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])('accepts the public %s', (address) => {
    expect(addressProblem(address, deployed)).toBeUndefined()
  })

  it('accepts loopback, and only loopback, for local origins', () => {
    expect(addressProblem('127.0.0.1', local)).toBeUndefined()
    expect(addressProblem('::1', local)).toBeUndefined()
    expect(addressProblem('10.0.0.1', local)).toMatch(/private/)
    expect(addressProblem('169.254.169.254', local)).toMatch(/linkLocal/)
  })
})

describe('Function: urlProblem', () => {
  it.each([
    ['file:///etc/passwd', 'must use https'],
    ['ftp://images.example.com/a1', 'must use https'],
    ['http://images.example.com/a1', 'must use https'],
    ['gopher://images.example.com/', 'must use https'],
    ['https://user:pw@images.example.com/a1', 'must not contain credentials'],
    ['https://evil.example.net/a1', 'host "evil.example.net" is not in ALLOWED_HOSTS'],
    ['https://images.example.com.evil.net/a1', 'host "images.example.com.evil.net" is not in ALLOWED_HOSTS'],
    ['https://cdn.example.org/a1', 'host "cdn.example.org" is not in ALLOWED_HOSTS'],
    ['https://169.254.169.254/latest/meta-data', 'host "169.254.169.254" is not in ALLOWED_HOSTS'],
  ])('refuses %s: %s', (url, problem) => {
    expect(urlProblem(new URL(url), deployed)).toBe(problem)
  })

  it('accepts allowlisted hosts and subdomains of a wildcard entry, whatever their case', () => {
    expect(urlProblem(new URL('https://IMAGES.example.com/a1'), deployed)).toBeUndefined()
    expect(urlProblem(new URL('https://eu.cdn.example.org/a1'), deployed)).toBeUndefined()
    expect(urlProblem(new URL('https://93.184.216.34/a1'), deployed)).toBeUndefined()
  })

  it('refuses an allowlisted IP literal that is not public', () => {
    const policy = { allowedHosts: ['10.0.0.5', '::1'], localOrigins: false }
    expect(urlProblem(new URL('https://10.0.0.5/a1'), policy)).toBe('10.0.0.5 is a private address, not a public one')
    expect(urlProblem(new URL('https://[::1]/a1'), policy)).toBe('::1 is a loopback address, not a public one')
  })

  it('accepts http and loopback for local origins', () => {
    expect(urlProblem(new URL('http://127.0.0.1:8701/a1'), local)).toBeUndefined()
    expect(urlProblem(new URL('ftp://127.0.0.1/a1'), local)).toBe('must use http or https')
  })
})

describe('Function: resolvedHostProblem', () => {
  const resolvesTo =
    (...addresses: string[]) =>
    async () =>
      addresses

  it('refuses a host name that resolves to a loopback address', async () => {
    expect(await resolvedHostProblem(new URL('https://images.example.com/a1'), deployed, resolvesTo('127.0.0.1'))).toBe(
      'host "images.example.com" resolves to a non-public address: 127.0.0.1 is a loopback address, not a public one',
    )
  })

  it('refuses a host name with any non-public address among public ones', async () => {
    expect(
      await resolvedHostProblem(new URL('https://images.example.com/a1'), deployed, resolvesTo('93.184.216.34', '10.1.1.1')),
    ).toMatch(/resolves to a non-public address: 10\.1\.1\.1 is a private address/)
  })

  it('leaves a host name that does not resolve to the connection, whose own guard checks it then', async () => {
    const nowhere = () => Promise.reject(new Error('ENOTFOUND'))
    expect(await resolvedHostProblem(new URL('https://images.example.com/a1'), deployed, nowhere)).toBeUndefined()
  })

  it('accepts a host whose every address is public, and does not resolve IP literals', async () => {
    expect(await resolvedHostProblem(new URL('https://images.example.com/a1'), deployed, resolvesTo('93.184.216.34'))).toBeUndefined()
    const unused = () => Promise.reject(new Error('must not be called'))
    expect(await resolvedHostProblem(new URL('https://93.184.216.34/a1'), deployed, unused)).toBeUndefined()
  })
})
