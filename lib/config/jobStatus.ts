import type { Env } from './env.ts'
import { loadJobTable, type JobTableConfig } from './jobStore.ts'

/** What the job status function reads: only the jobs table, since it does one read of it. */
export type JobStatusConfig = JobTableConfig

/** Reads and validates the job status function's environment; throws ConfigError naming the variable. */
export function loadJobStatusConfig(env: Env = process.env): JobStatusConfig {
  return loadJobTable(env)
}
