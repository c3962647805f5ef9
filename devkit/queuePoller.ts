import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs'
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Runs the function on one batch; resolves with the ids of the messages it reports failed, rejects
 * if it failed whole, or once `signal` aborts (the poller stopping).
 */
export type BatchInvoker = (event: SQSEvent, signal: AbortSignal) => Promise<readonly string[]>

/** What Lambda's event source mapping for SQS is told in the template, for one queue. */
export interface QueuePollerOptions {
  readonly sqs: SQSClient
  readonly queueUrl: string
  readonly queueArn: string
  /** Messages per invocation, at most ten (one ReceiveMessage). */
  readonly batchSize: number
  /** Invocations at once (the mapping's maximum concurrency). */
  readonly maxConcurrency: number
  readonly invoke: BatchInvoker
  /** Resolves once the function can be invoked; nothing is received before. */
  readonly ready?: Promise<void>
  readonly onError?: (error: unknown) => void
}

export interface QueuePoller {
  /** Invocations made so far, and the most that ran at once. */
  readonly stats: { readonly invocations: number; readonly maxConcurrent: number }
  /**
   * Stops receiving and gives up the invocations in flight, their messages left to the queue: a
   * chunk cut short is delivered again after its visibility timeout, as on AWS when a worker dies.
   */
  stop(): Promise<void>
}

// Short, so that a stop is prompt; the server answers at once when messages are there.
const WAIT_SECONDS = 1
// serverless-offline-sqs on this registry ignores partial batch failures and maximum concurrency,
// so the local stack does what the mapping does, in a few lines, against the local SQS server.

/**
 * Polls a queue as Lambda's event source mapping does and invokes the function with each batch:
 * at most `maxConcurrency` invocations at once; the messages the function reports failed (or all,
 * if it fails whole) are left for the queue to deliver again after their visibility timeout, and
 * to move to the dead-letter queue after the last try; the rest are deleted.
 */
export function startQueuePoller(options: QueuePollerOptions): QueuePoller {
  const { sqs, queueUrl, batchSize, maxConcurrency, invoke } = options
  const stopping = new AbortController()
  const running = new Set<Promise<void>>()
  const stats = { invocations: 0, maxConcurrent: 0 }

  async function deliver(messages: Message[]): Promise<void> {
    stats.invocations += 1
    let failed: ReadonlySet<string>
    try {
      failed = new Set(await invoke({ Records: messages.map((message) => recordOf(message, options)) }, stopping.signal))
    } catch (error) {
      if (stopping.signal.aborted) return
      options.onError?.(error)
      failed = new Set(messages.map((message) => message.MessageId ?? ''))
    }
    const done = messages.filter((message) => !failed.has(message.MessageId ?? ''))
    if (done.length === 0) return
    await sqs
      .send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      )
      .catch((error: unknown) => options.onError?.(error))
  }

  const loop = (async () => {
    await options.ready
    while (!stopping.signal.aborted) {
      if (running.size >= maxConcurrency) {
        await Promise.race(running)
        continue
      }
      let messages: Message[]
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(batchSize, 10),
            WaitTimeSeconds: WAIT_SECONDS,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: stopping.signal },
        )
        messages = answer.Messages ?? []
      } catch (error) {
        if (stopping.signal.aborted) break
        options.onError?.(error)
        await sleep(500, undefined, { signal: stopping.signal }).catch(() => undefined)
        continue
      }
      if (messages.length === 0) continue
      const task: Promise<void> = deliver(messages).finally(() => running.delete(task))
      running.add(task)
      stats.maxConcurrent = Math.max(stats.maxConcurrent, running.size)
    }
    await Promise.all(running)
  })()

  return {
    stats,
    async stop() {
      stopping.abort()
      await loop
    },
  }
}

/** A message as an SQS event record, the shape Lambda hands a function. */
function recordOf(message: Message, { queueArn }: QueuePollerOptions): SQSRecord {
  const attributes = message.Attributes ?? {}
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes['ApproximateReceiveCount'] ?? '1',
      SentTimestamp: attributes['SentTimestamp'] ?? String(Date.now()),
      SenderId: attributes['SenderId'] ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes['ApproximateFirstReceiveTimestamp'] ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  }
}

/**
 * Invokes a function through serverless-offline's Lambda endpoint (which takes the full function
 * name, `imgpull-local-worker`) and reads its partial batch response.
 */
export function offlineInvoker(lambdaUrl: string, functionName: string, timeoutMs: number): BatchInvoker {
  return async (event, signal) => {
    const response = await fetch(`${lambdaUrl}/2015-03-31/functions/${functionName}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    })
    const text = await response.text()
    if (!response.ok || response.headers.has('x-amz-function-error')) throw new Error(`${functionName} failed: ${text.slice(0, 500)}`)
    const answer = JSON.parse(text) as Partial<SQSBatchResponse> | null
    return (answer?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier)
  }
}

/** The two pollers of the local jobs stack: the jobs queue into the worker, its dead letters into deadLetters. */
export interface JobPollersOptions {
  readonly sqs: SQSClient
  readonly queues: { readonly queueUrl: string; readonly queueArn: string; readonly deadLetterQueueUrl: string; readonly deadLetterQueueArn: string }
  readonly settings: { readonly worker: ConsumerOptions; readonly deadLetters: ConsumerOptions }
  /** serverless-offline's Lambda endpoint. */
  readonly lambdaUrl: string
  readonly ready?: Promise<void>
  readonly onError?: (error: unknown) => void
}

interface ConsumerOptions {
  readonly functionName: string
  readonly batchSize: number
  readonly maxConcurrency: number
  readonly timeoutSeconds: number
}

// A function's own timeout, plus the time serverless-offline takes to start one.
const INVOKE_GRACE_MS = 5000

/** Starts both pollers as the template's two event source mappings configure them. */
export function startJobPollers({ sqs, queues, settings, lambdaUrl, ready, onError }: JobPollersOptions): QueuePoller[] {
  const consumer = (queueUrl: string, queueArn: string, fn: ConsumerOptions) =>
    startQueuePoller({
      sqs,
      queueUrl,
      queueArn,
      batchSize: fn.batchSize,
      maxConcurrency: fn.maxConcurrency,
      invoke: offlineInvoker(lambdaUrl, fn.functionName, fn.timeoutSeconds * 1000 + INVOKE_GRACE_MS),
      ...(ready === undefined ? {} : { ready }),
      ...(onError === undefined ? {} : { onError }),
    })
  return [consumer(queues.queueUrl, queues.queueArn, settings.worker), consumer(queues.deadLetterQueueUrl, queues.deadLetterQueueArn, settings.deadLetters)]
}
