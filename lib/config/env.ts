/** An environment: process.env in a function, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>

/** An environment variable that is missing or malformed; thrown at cold start, never per request. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`)
    this.name = 'ConfigError'
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

/** An integer variable within [min, max], or the fallback when unset; ConfigError otherwise. */
export function integerInRange(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = present(env, name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`)
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
