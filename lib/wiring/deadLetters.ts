import type { DeadLettersConfig } from '../config/deadLetters.ts'
import { countDeadLetter, type ChunkCount } from '../jobs/worker.ts'
import { jobFinishing, type JobStoreOverrides } from './jobStore.ts'

/** The dead-letters function's work: a chunk that reached the dead-letter queue counted into its job, every code an error. */
export function composeDeadLetters(config: DeadLettersConfig, overrides: JobStoreOverrides = {}): (body: string) => Promise<ChunkCount> {
  const finishing = jobFinishing(config, overrides)
  return (body) => countDeadLetter(body, finishing)
}
