import { getAttTarget } from './cloudFormation.ts'

/** What a function may touch: IAM actions per store, e.g. `{ images: ['GetObject'] }`. */
export type Access = Readonly<Record<string, readonly string[]>>

/** A function of serverless.yml's list, as the framework resolves it, as far as the stack reads it. */
export interface FunctionEntry {
  readonly timeout?: number | string
  readonly events?: readonly Readonly<Record<string, unknown>>[]
  readonly destinations?: { readonly onFailure?: { readonly type?: string; readonly arn?: unknown } }
  readonly access?: Access
}

/** The function's timeout in seconds: its own, else the provider's, else Lambda's 6 s. */
export function timeoutOf(fn: FunctionEntry, providerTimeout: number | string | undefined): number {
  return Number(fn.timeout ?? providerTimeout ?? 6)
}

/** The queues (logical ids) the function's sqs events read. */
export function queuesRead(fn: FunctionEntry): string[] {
  return (fn.events ?? []).flatMap((event) => {
    const sqs = event['sqs']
    const queue = typeof sqs === 'object' && sqs !== null ? getAttTarget((sqs as { arn?: unknown }).arn) : undefined
    return queue === undefined ? [] : [queue]
  })
}

/** The queue (logical id) the function's failed asynchronous invocations go to, if it names one of the stack's. */
export function failureQueue(fn: FunctionEntry): string | undefined {
  const onFailure = fn.destinations?.onFailure
  return onFailure?.type === 'sqs' ? getAttTarget(onFailure.arn) : undefined
}
