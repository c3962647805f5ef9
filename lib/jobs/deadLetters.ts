import { objectKey } from '../download/keys.ts'
import { messageOf } from '../download/failures.ts'
import { runFanOut } from './fanOut.ts'
import { deadLetterPart, finishJob, type JobSteps, type StepResult } from './finish.ts'
import { parseJobMessage, type ChunkMessage, type JobMessage } from './messages.ts'
import { countPart } from './parts.ts'

export interface DeadLetterDeps extends JobSteps {
  /** Whether an image is stored under the key: a code some delivery stored counts `ok`. */
  readonly isStored: (key: string) => Promise<boolean>
}

const WHY = 'the chunk kept failing and went to the dead-letter queue'

/**
 * A message that reached the dead-letter queue. A chunk's part is counted, unless it was
 * counted before it got there: each code `ok` if a delivery stored its image, else `error`
 * (`dead_letter`). A fan-out or a finish is run again. A message that is not a job message, or
 * belongs to no job or plan, is dropped: there is nothing to count it into.
 */
export async function countDeadLetter(body: string, deps: DeadLetterDeps): Promise<StepResult> {
  let message: JobMessage
  try {
    message = parseJobMessage(body)
  } catch (error) {
    return { kind: 'dropped', reason: messageOf(error) }
  }
  switch (message.kind) {
    case 'chunk':
      return countDeadChunk(message, deps)
    case 'fanOut':
      return runFanOut({ ...message, check: false }, deps)
    case 'finish':
      return finishJob(message.jobId, deps)
  }
}

function countDeadChunk(message: ChunkMessage, deps: DeadLetterDeps): Promise<StepResult> {
  return countPart(message, deps, { deadLetter: true }, async (job, codes) => {
    const stored = await Promise.all(codes.map((code) => deps.isStored(objectKey(job.prefix, code))))
    const lost = codes.filter((_, i) => !stored[i])
    return deadLetterPart(message, lost, WHY, codes.length - lost.length)
  })
}
