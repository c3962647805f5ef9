import type { Env } from './env.ts'
import { loadJobSteps, type JobStepsConfig } from './jobStore.ts'

/** What the dead-letters function reads: what counting a chunk into its job, and closing the job, takes. */
export type DeadLettersConfig = JobStepsConfig

/** Reads and validates the dead-letters function's environment; throws ConfigError naming the variable. */
export function loadDeadLettersConfig(env: Env = process.env): DeadLettersConfig {
  return loadJobSteps(env)
}
