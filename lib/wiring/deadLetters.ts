import { createS3Client } from '../adapters/s3/client.ts'
import { s3ObjectExists } from '../adapters/s3/jobObjects.ts'
import type { DeadLettersConfig } from '../config/deadLetters.ts'
import { countDeadLetter } from '../jobs/deadLetters.ts'
import type { StepResult } from '../jobs/finish.ts'
import { jobSteps, type JobStoreOverrides } from './jobStore.ts'

/** The dead-letters function's work: a message that reached the dead-letter queue, counted or run again. */
export function composeDeadLetters(config: DeadLettersConfig, overrides: JobStoreOverrides = {}): (body: string) => Promise<StepResult> {
  const s3Client = overrides.s3Client ?? createS3Client({ localEndpoint: config.localS3Endpoint })
  const deps = { ...jobSteps(config, { ...overrides, s3Client }), isStored: s3ObjectExists(s3Client, config.bucket) }
  return (body) => countDeadLetter(body, deps)
}
