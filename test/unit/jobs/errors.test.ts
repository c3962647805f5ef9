import { describe, expect, it } from 'vitest'
import { ImgpullError } from '../../../lib/errors.ts'
import { ChunkIncomplete, JobNotFound, ObjectTooLarge, PlanMissing } from '../../../lib/jobs/errors.ts'

describe('Module: jobs errors', () => {
  it.each([
    ['JobNotFound', JobNotFound],
    ['ObjectTooLarge', ObjectTooLarge],
    ['ChunkIncomplete', ChunkIncomplete],
    ['PlanMissing', PlanMissing],
  ] as const)('makes %s an ImgpullError named for its class, keeping its message and cause', (name, JobsError) => {
    const cause = new Error('ConditionalCheckFailedException')

    const error = new JobsError('no job 42', { cause })

    expect(error).toBeInstanceOf(ImgpullError)
    expect(error).toBeInstanceOf(Error)
    expect(error.name).toBe(name)
    expect(error.message).toBe('no job 42')
    expect(error.cause).toBe(cause)
  })
})
