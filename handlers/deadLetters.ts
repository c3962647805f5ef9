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
    const step = await countDeadLetter(record.body)
    if (step.kind === 'dropped') logger.error('dead letter dropped', { messageId: record.messageId, reason: step.reason })
    else logger.error('dead letter counted', { jobId: step.jobId, step: step.what })
  },
  { observability: observed },
)
