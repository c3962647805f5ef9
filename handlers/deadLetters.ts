import { loadDeadLettersConfig } from '../lib/config/deadLetters.ts'
import { observability } from '../lib/lambda/observability.ts'
import { sqsBatchHandler } from '../lib/lambda/sqsBatch.ts'
import { composeDeadLetters } from '../lib/wiring/deadLetters.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const countDeadLetter = composeDeadLetters(loadDeadLettersConfig())
const observed = observability()
const { logger } = observed

export const handler = sqsBatchHandler(
  async (record) => {
    const counted = await countDeadLetter(record.body)
    if (counted.kind === 'dropped') logger.error('dead letter dropped', { messageId: record.messageId, reason: counted.reason })
    else logger.error('chunk dead-lettered', { jobId: counted.job.jobId, chunk: counted.chunk, state: counted.job.state })
  },
  { observability: observed },
)
