import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { setTimeout as sleep } from 'node:timers/promises'
import { ImgpullError } from '../../errors.ts'
import type { JobMessage } from '../../jobs/messages.ts'
import type { JobQueue } from '../../jobs/ports.ts'

// SQS takes at most ten messages, and 256 KiB of bodies, per SendMessageBatch (a larger batch is
// refused whole as BatchRequestTooLong); a job's messages carry no codes and are about 150 bytes.
const BATCH_ENTRIES = 10
const BATCH_BYTES = 256 * 1024
// Entries SQS reports as Failed (throttled, internal error) are sent again this many times.
const RESEND_ROUNDS = 3
const RESEND_BASE_DELAY_MS = 100
// Batches in flight at once: a fan-out sends 100 messages, 10 batches, between two checkpoints.
const PARALLEL_BATCHES = 8

interface Pending {
  readonly message: JobMessage
  readonly body: string
}

/** Messages SQS would not take, after retries: the step that sent them fails, to be run again. */
export class QueueSendFailed extends ImgpullError {}

/**
 * A JobQueue on one SQS queue: batches of up to ten messages and 256 KiB, several at once, and
 * the entries SQS reports as failed sent again with backoff. The SDK retries a batch that fails
 * whole; what still fails is thrown with SQS's reason.
 */
export function sqsJobQueue(client: SQSClient, queueUrl: string): JobQueue {
  /** Sends one batch, resending what SQS reports failed; hands back what never went, and tells why to `noteReason`. */
  async function sendBatch(batch: readonly Pending[], delaySeconds: number, noteReason: (reason: string) => void): Promise<Pending[]> {
    let pending = batch
    for (let round = 0; round <= RESEND_ROUNDS && pending.length > 0; round += 1) {
      if (round > 0) await sleep(RESEND_BASE_DELAY_MS * 2 ** (round - 1))
      try {
        const { Failed = [] } = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map(({ body }, index) => ({ Id: String(index), MessageBody: body, ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}) })),
          }),
        )
        const failed = new Map(Failed.map((entry) => [Number(entry.Id), entry]))
        for (const entry of failed.values()) noteReason(`${entry.Code ?? 'failed'}: ${entry.Message ?? ''}`.trim())
        // An entry SQS faults the sender for (too large, invalid) fails the same way again.
        if ([...failed.values()].every((entry) => entry.SenderFault === true) && failed.size > 0) return pending.filter((_, index) => failed.has(index))
        pending = pending.filter((_, index) => failed.has(index))
      } catch (error) {
        // The SDK has retried the call already; a call SQS refuses as the caller's fault fails the same way again.
        noteReason(error instanceof Error ? `${error.name}: ${error.message}` : String(error))
        if ((error as { $fault?: unknown }).$fault === 'client') return [...pending]
      }
    }
    return [...pending]
  }

  return {
    async send(messages, delaySeconds = 0) {
      let reason: string | undefined
      const noteReason = (why: string) => {
        reason = why
      }
      const batches: Pending[][] = []
      let batch: Pending[] = []
      let bytes = 0
      for (const message of messages) {
        const body = JSON.stringify(message)
        const size = Buffer.byteLength(body)
        if (batch.length === BATCH_ENTRIES || (batch.length > 0 && bytes + size > BATCH_BYTES)) {
          batches.push(batch)
          batch = []
          bytes = 0
        }
        batch.push({ message, body })
        bytes += size
      }
      if (batch.length > 0) batches.push(batch)

      const unsent: JobMessage[] = []
      let next = 0
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL_BATCHES, batches.length) }, async () => {
          for (let current = batches[next++]; current !== undefined; current = batches[next++]) {
            unsent.push(...(await sendBatch(current, delaySeconds, noteReason)).map(({ message }) => message))
          }
        }),
      )
      if (unsent.length > 0) throw new QueueSendFailed(`${unsent.length} of ${messages.length} messages could not be sent${reason === undefined ? '' : `: ${reason}`}`)
    },
  }
}
