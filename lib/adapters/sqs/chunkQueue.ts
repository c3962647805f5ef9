import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChunkMessage } from '../../jobs/chunks.ts'
import type { ChunkQueue } from '../../jobs/ports.ts'

// SQS takes at most ten messages per SendMessageBatch.
const BATCH_ENTRIES = 10
// Entries SQS reports as Failed (throttled, internal error) are sent again this many times.
const RESEND_ROUNDS = 3
const RESEND_BASE_DELAY_MS = 100
// Batches in flight at once: a 100 000-code job is 1000 messages, 100 batches.
const PARALLEL_BATCHES = 8

/**
 * A ChunkQueue on one SQS queue: batches of ten, several at once, and the entries SQS reports as
 * failed sent again with backoff. The SDK retries a batch that fails whole; what still fails is
 * handed back, not thrown, so the planner can count it.
 */
export function sqsChunkQueue(client: SQSClient, queueUrl: string): ChunkQueue {
  async function sendBatch(batch: readonly ChunkMessage[]): Promise<ChunkMessage[]> {
    let pending = batch
    for (let round = 0; round <= RESEND_ROUNDS && pending.length > 0; round += 1) {
      if (round > 0) await sleep(RESEND_BASE_DELAY_MS * 2 ** (round - 1))
      try {
        const { Failed } = await client.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: pending.map((message, index) => ({ Id: String(index), MessageBody: JSON.stringify(message) })),
          }),
        )
        const failed = new Set((Failed ?? []).map((entry) => Number(entry.Id)))
        pending = pending.filter((_, index) => failed.has(index))
      } catch {
        // The SDK has retried the call already; the next round tries once more.
      }
    }
    return [...pending]
  }

  return {
    async send(messages) {
      const batches: ChunkMessage[][] = []
      for (let start = 0; start < messages.length; start += BATCH_ENTRIES) batches.push(messages.slice(start, start + BATCH_ENTRIES))
      const unsent: ChunkMessage[] = []
      let next = 0
      await Promise.all(
        Array.from({ length: Math.min(PARALLEL_BATCHES, batches.length) }, async () => {
          for (let batch = batches[next++]; batch !== undefined; batch = batches[next++]) unsent.push(...(await sendBatch(batch)))
        }),
      )
      return unsent
    },
  }
}
