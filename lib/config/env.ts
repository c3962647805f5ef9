import { keyPrefixProblem } from '../download/keys.ts'
import { ImgpullError } from '../errors.ts'

/** An environment: process.env in a function, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>

/** An environment variable that is missing or malformed; thrown at cold start, never per request. */
export class ConfigError extends ImgpullError {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`)
  }
}

/** A variable's trimmed value, or undefined when it is unset or blank. */
export function present(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** A variable that must be set; ConfigError when it is not. */
export function requiredString(env: Env, name: string): string {
  const value = present(env, name)
  if (value === undefined) throw new ConfigError(name, 'is required')
  return value
}

/**
 * An integer variable within [min, max], or the fallback when unset; ConfigError otherwise, saying
 * `why` the bounds are what they are when one is given.
 */
export function integerInRange(env: Env, name: string, fallback: number, min: number, max: number, why?: string): number {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}${why === undefined ? '' : ` (${why})`}, got "${raw}"`)
  }
  return value
}

/** An http(s) URL variable, or undefined when unset; ConfigError for anything else. */
export function optionalHttpUrl(env: Env, name: string): string | undefined {
  const raw = present(env, name)
  if (raw === undefined) return undefined
  const url = URL.parse(raw)
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`)
  }
  return raw
}

/** A comma-separated list of host names, IP literals or `*.domain` wildcards, lower-cased. */
export function hostList(env: Env, name: string, fallback: string): string[] {
  const raw = present(env, name)
  if (raw === undefined) return [fallback.toLowerCase()]
  const hosts = raw.split(',').map((host) => host.trim().toLowerCase()).filter((host) => host !== '')
  const bad = hosts.find((host) => !/^(\*\.)?[a-z0-9._:-]+$/.test(host))
  if (bad !== undefined || hosts.length === 0) {
    throw new ConfigError(name, `must be a comma-separated list of host names, got "${raw}"`)
  }
  return hosts
}

/** A key prefix variable, or the fallback when unset (but not when set blank): path segments a key may start with. */
export function keyPrefix(env: Env, name: string, fallback: string): string {
  return checkedPrefix(env, name, fallback, keyPrefixProblem)
}

/**
 * A key prefix variable that must be a folder, ending in "/": the objects under it can then never
 * include a sibling's (`flags-other/` from `flags`), nor the whole bucket (from ''). `purpose`, when
 * given, says in the error what needs the folder.
 */
export function folderPrefix(env: Env, name: string, fallback: string, purpose?: string): string {
  const folder = purpose === undefined ? 'must be a folder, ending in "/"' : `must be a folder, ending in "/", ${purpose}`
  return checkedPrefix(env, name, fallback, (raw) => (raw === '' || !raw.endsWith('/') ? folder : keyPrefixProblem(raw)))
}

function checkedPrefix(env: Env, name: string, fallback: string, problemOf: (raw: string) => string | undefined): string {
  const raw = env[name] ?? fallback
  const problem = problemOf(raw)
  if (problem !== undefined) throw new ConfigError(name, `${problem}, got "${raw}"`)
  return raw
}

