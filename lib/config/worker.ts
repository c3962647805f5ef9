import { loadDownloadRun, type DownloadRunConfig } from './download.ts'
import type { Env } from './env.ts'
import { loadJobSteps, MAX_CHUNK_SIZE, type JobStepsConfig } from './jobStore.ts'
import { loadMetricsNamespace } from './telemetry.ts'

/** What the worker reads: what running a chunk's downloads takes, and what counting it into its job takes. */
export interface WorkerConfig extends DownloadRunConfig, JobStepsConfig {
  /** CloudWatch namespace of the function's metrics. */
  readonly metricsNamespace: string
}

/** Reads and validates the worker's environment; throws ConfigError naming the variable. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  return Object.freeze({
    ...loadJobSteps(env),
    // A chunk is held to the rules of any request, its size to the most a chunk may hold.
    ...loadDownloadRun(env, MAX_CHUNK_SIZE),
    metricsNamespace: loadMetricsNamespace(env),
  })
}
