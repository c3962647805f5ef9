import { loadJobStatusConfig } from '../lib/config/jobStatus.ts'
import { multiTriggerHandler } from '../lib/lambda/multiTrigger.ts'
import { observability } from '../lib/lambda/observability.ts'
import { composeJobStatus } from '../lib/wiring/jobStatus.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const jobStatus = composeJobStatus(loadJobStatusConfig())

export const handler = multiTriggerHandler(jobStatus, {
  triggers: ['http', 'direct'],
  // GET /jobs/{jobId}: the id is in the path.
  httpInput: (event) => ({ jobId: event.pathParameters?.['jobId'] }),
  observability: observability(),
})
