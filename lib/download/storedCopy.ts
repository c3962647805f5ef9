import type { LimitFunction } from 'p-limit'
import { objectKey } from './keys.ts'
import type { ObjectSink, OriginValidators } from './ports.ts'
import type { DownloadPlan } from './request.ts'

// A code's stored copy, looked up to make its request conditional: an unchanged image then costs a 304, not a body.

/**
 * The keys of the plan that the sink's listings found without an object, which need no look-up.
 * A sink without listings, or a listing that failed, only means every key is looked up.
 */
export function listedKeysWithoutObject(plan: DownloadPlan, sink: ObjectSink, signal: AbortSignal): Promise<ReadonlySet<string>> {
  if (sink.keysWithoutObject === undefined) return Promise.resolve(new Set())
  const keys = plan.codes.map((code) => objectKey(plan.prefix, code))
  return sink.keysWithoutObject(keys, signal).catch(() => new Set())
}

/**
 * The validators the stored copy under `key` was saved with, or undefined when there is none: known
 * at once for a key listed without an object, otherwise looked up in one of the run's look-up slots.
 */
export async function storedValidators(
  key: string,
  keysWithoutObject: Promise<ReadonlySet<string>>,
  lookupSlots: LimitFunction,
  sink: ObjectSink,
  signal: AbortSignal,
): Promise<OriginValidators | undefined> {
  const withoutObject = await keysWithoutObject
  return withoutObject.has(key) ? undefined : lookupSlots(lookUpValidators, sink, key, signal)
}

function lookUpValidators(sink: ObjectSink, key: string, signal: AbortSignal): Promise<OriginValidators | undefined> {
  signal.throwIfAborted()
  return sink.validatorsOf(key, signal)
}

/**
 * Whether an upload the deadline cut short was stored all the same: its request may have reached
 * the store before the abort, which then only lost the answer, and its code must count `ok`, not
 * `deadline`. The key holding an object of the very version it was storing (the same origin
 * validators) says so; an image served without validators cannot be told apart, and is not.
 * Asked with a signal of its own, the run's having fired, for half the time kept back to answer.
 */
export async function storedDespiteDeadline(sink: ObjectSink, key: string, served: OriginValidators, reserveMs: number): Promise<boolean> {
  const withinMs = reserveMs / 2
  if ((served.etag === undefined && served.lastModified === undefined) || withinMs <= 0) return false
  try {
    const stored = await sink.validatorsOf(key, AbortSignal.timeout(withinMs))
    return stored !== undefined && stored.etag === served.etag && stored.lastModified === served.lastModified
  } catch {
    return false
  }
}
