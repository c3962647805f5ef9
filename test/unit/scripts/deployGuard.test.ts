import { describe, expect, it } from 'vitest'
import { durationAlarmProblem, scheduleProblem, visibilityProblem } from '../../../scripts/deploy-guard.ts'

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

describe('Function: visibilityProblem', () => {
  it('asks for a visibility timeout of at least six times the function timeout', () => {
    expect(visibilityProblem('worker', 120, 'JobsQueue', 720)).toBeUndefined()
    expect(visibilityProblem('worker', 120, 'JobsQueue', '719')).toMatch(/^function worker: queue JobsQueue has a visibility timeout of 719 s, under 6 times/)
    // SQS's own default, 30 s, when the queue sets none.
    expect(visibilityProblem('worker', 6, 'JobsQueue', undefined)).toMatch(/of 30 s, under 6 times the function's timeout of 6 s/)
  })
})

describe('Function: durationAlarmProblem', () => {
  it('keeps a duration alarm set apart from its timeout at 80 % of it', () => {
    expect(durationAlarmProblem('worker', 120, 96000)).toBeUndefined()
    expect(durationAlarmProblem('worker', 60, 96000)).toMatch(/^function worker: its duration alarm is at 96000 ms, not 80 % of its 60 s timeout \(48000\)/)
  })
})
