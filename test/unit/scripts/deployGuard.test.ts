import { describe, expect, it } from 'vitest'
import { scheduleProblem } from '../../../scripts/deploy-guard.ts'

const template = (detail: string) => ({ inputTemplate: `{"id":<id>,"detail":${detail}}` })

describe('Function: scheduleProblem', () => {
  it('lets an enabled schedule run a job of codes or of a manifest', () => {
    expect(scheduleProblem('jobs', { enabled: true, inputTransformer: template('{"codes":["cn"]}') })).toBeUndefined()
    expect(scheduleProblem('jobs', { enabled: true, inputTransformer: template('{"manifest":"manifests/daily.txt"}') })).toBeUndefined()
  })

  it('refuses an enabled schedule that names neither', () => {
    expect(scheduleProblem('jobs', { enabled: true, inputTransformer: template('{}') })).toMatch(/names no codes and no manifest/)
  })
})
