import { present, type Env } from './env.ts'

export const DEFAULT_METRICS_NAMESPACE = 'imgpull'

/** The CloudWatch namespace of a function's metrics, for the functions that publish some. */
export function loadMetricsNamespace(env: Env): string {
  return present(env, 'POWERTOOLS_METRICS_NAMESPACE') ?? DEFAULT_METRICS_NAMESPACE
}
