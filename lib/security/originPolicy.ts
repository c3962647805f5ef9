import ipaddr from 'ipaddr.js'
import { isIP } from 'node:net'

/** Which origins the function may fetch from. */
export interface OriginPolicy {
  /** Host names a request's baseUrl (and any redirect) may point at; `*.example.com` covers subdomains. */
  readonly allowedHosts: readonly string[]
  /** Local runs only: plain http and loopback addresses are accepted. */
  readonly localOrigins: boolean
}

/** Resolves a host name to every address it has, as the connection would. */
export type ResolveHost = (hostname: string) => Promise<string[]>

/**
 * Why an IP address may not be connected to, or undefined when it is a public unicast address.
 * Private, loopback, link-local (cloud metadata, 169.254.169.254), unique-local, CGNAT, multicast,
 * reserved, documentation, NAT64, 6to4 and Teredo ranges are all refused; IPv4-mapped IPv6 is read
 * as IPv4. Every IPv6 form that embeds an IPv4 address is refused or read as that address, since a
 * network that routes it reaches the IPv4 host.
 */
export function addressProblem(address: string, policy: Pick<OriginPolicy, 'localOrigins'>): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`
  const parsed = ipaddr.process(address)
  const range = parsed.range()
  if (range === 'unicast' && parsed.kind() === 'ipv6' && isIpv4Compatible(parsed as ipaddr.IPv6)) {
    return `${address} is an IPv4-compatible address (of ${ipv4Within(parsed as ipaddr.IPv6)}), not a public one`
  }
  if (range === 'unicast') return undefined
  if (range === 'loopback' && policy.localOrigins) return undefined
  return `${address} is a ${range} address, not a public one`
}

// ::/96 less :: and ::1 (which have ranges of their own): the IPv4-compatible form RFC 4291
// deprecated, which ipaddr.js reads as unicast.
const isIpv4Compatible = (address: ipaddr.IPv6): boolean => address.parts.slice(0, 6).every((part) => part === 0)

const ipv4Within = (address: ipaddr.IPv6): string => {
  const [high = 0, low = 0] = address.parts.slice(6)
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
}

/** Strips the brackets URL.hostname keeps around an IPv6 literal. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
}

function isAllowedHost(hostname: string, allowedHosts: readonly string[]): boolean {
  const host = hostname.toLowerCase()
  return allowedHosts.some((allowed) =>
    allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) && host.length > allowed.length - 1 : host === allowed,
  )
}

/**
 * Why a URL may not be fetched, judged on the URL alone (scheme, credentials, allowlist, and the
 * address when the host is an IP literal), or undefined. Host names are judged on what they
 * resolve to, when connecting.
 */
export function urlProblem(url: URL, policy: OriginPolicy): string | undefined {
  const schemes = policy.localOrigins ? ['https:', 'http:'] : ['https:']
  if (!schemes.includes(url.protocol)) return `must use ${policy.localOrigins ? 'http or https' : 'https'}`
  if (url.username !== '' || url.password !== '') return 'must not contain credentials'
  const host = bareHost(url.hostname)
  if (!isAllowedHost(host, policy.allowedHosts)) return `host "${host}" is not in ALLOWED_HOSTS`
  if (isIP(host) !== 0) return addressProblem(host, policy)
  return undefined
}

/** The first of a host's addresses the policy refuses, with why, or undefined when all are accepted. */
export function refusedAddress(
  addresses: readonly string[],
  policy: Pick<OriginPolicy, 'localOrigins'>,
): string | undefined {
  for (const address of addresses) {
    const refused = addressProblem(address, policy)
    if (refused !== undefined) return refused
  }
  return undefined
}

/**
 * Checks, before anything is sent, every address a URL's host name resolves to; the URL's own
 * rules are urlProblem's. The check is repeated on the address actually connected to, so a host
 * that resolves differently later (DNS rebinding) is still refused then.
 */
export async function resolvedHostProblem(
  url: URL,
  policy: OriginPolicy,
  resolve: ResolveHost,
): Promise<string | undefined> {
  const host = bareHost(url.hostname)
  if (isIP(host) !== 0) return undefined
  let addresses: string[]
  try {
    addresses = await resolve(host)
  } catch {
    // A name that does not resolve now is not an abuse: each code fails as `network` when its
    // connection is tried, and the guard in the connection checks whatever it resolves to then.
    return undefined
  }
  const refused = refusedAddress(addresses, policy)
  return refused === undefined ? undefined : `host "${host}" resolves to a non-public address: ${refused}`
}
