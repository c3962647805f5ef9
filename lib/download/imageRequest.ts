import type { ImageRequest, OriginValidators } from './ports.ts'

/**
 * The GET of one attempt: conditional when the stored copy's validators are known, so that an
 * unchanged image answers 304; cut short when the run aborts or the attempt's clock runs out.
 */
export function imageRequest(url: string, validators: OriginValidators | undefined, runSignal: AbortSignal, clockSignal: AbortSignal): ImageRequest {
  const signal = AbortSignal.any([runSignal, clockSignal])
  return validators === undefined ? { url, signal } : { url, signal, validators }
}
