import { ValidationError } from '../errors.ts'
import { resolvedHostProblem, type ResolveHost } from '../security/originPolicy.ts'
import { runDownloads, type DownloadPorts, type EngineSettings, type RunControls } from './engine.ts'
import type { DownloadReport } from './report.ts'
import { parseDownloadRequest, type DownloadPlan, type RequestRules } from './request.ts'

/**
 * Validates a raw download request into a plan: its own rules first, then every address its
 * origin resolves to. Throws ValidationError naming what is wrong; sends nothing to the origin.
 */
export async function validateDownloadRequest(input: unknown, rules: RequestRules, resolveHost: ResolveHost): Promise<DownloadPlan> {
  const plan = parseDownloadRequest(input, rules)
  const refused = await resolvedHostProblem(new URL(plan.baseUrl), rules.originPolicy, resolveHost)
  if (refused !== undefined) throw new ValidationError(`baseUrl: ${refused}`)
  return plan
}

/** Everything a download request needs besides itself: the rules it is held to, the limits, the systems. */
export interface DownloadDeps {
  readonly rules: RequestRules
  readonly settings: EngineSettings
  readonly ports: DownloadPorts
  /** DNS, for checking where a request's origin really is before anything is sent to it. */
  readonly resolveHost: ResolveHost
}

/** Validates a raw request and runs it: what every trigger of the download function does. */
export async function runDownloadRequest(input: unknown, deps: DownloadDeps, controls: RunControls = {}): Promise<DownloadReport> {
  const plan = await validateDownloadRequest(input, deps.rules, deps.resolveHost)
  return runDownloads(plan, deps.settings, deps.ports, controls)
}
