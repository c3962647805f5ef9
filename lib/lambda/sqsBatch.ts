import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import middy from '@middy/core'
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import { isSqsEvent } from './events.ts'
import { ValidationError } from '../errors.ts'
import type { Observability } from './observability.ts'

/** One message's work; what it throws marks that message alone as failed, to be delivered again. */
export type RecordHandler = (record: SQSRecord, invocation: { readonly signal: AbortSignal; readonly remainingMs: () => number }) => Promise<void>

export interface SqsBatchOptions {
  /** The function's logging, metrics and tracing, run around everything else. */
  readonly observability?: Observability
}

/**
 * A function on an SQS event source mapping with ReportBatchItemFailures: the messages of a batch
 * run one after another (so a worker's origin sees one chunk's concurrency at a time), and only
 * those that failed are reported, for SQS to deliver again. Powertools' batch processor does the
 * bookkeeping; an event that is not an SQS batch is refused.
 */
export function sqsBatchHandler(handleRecord: RecordHandler, options: SqsBatchOptions = {}) {
  const processor = new BatchProcessor(EventType.SQS)
  const handler = middy(async (event: unknown, context: Context, { signal }: { signal: AbortSignal }): Promise<SQSBatchResponse> => {
    if (!isSqsEvent(event)) throw new ValidationError('this function is started by SQS batches only')
    const remainingMs = () => context.getRemainingTimeInMillis()
    return processPartialResponse(event as SQSEvent, (record: SQSRecord) => handleRecord(record, { signal, remainingMs }), processor, {
      context,
      processInParallel: false,
      // A batch that fails whole is reported message by message too, rather than thrown.
      throwOnFullBatchFailure: false,
    })
  })
  for (const middleware of options.observability?.middlewares ?? []) handler.use(middleware)
  return handler
}
