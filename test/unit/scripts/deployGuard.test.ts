import { describe, expect, it } from 'vitest'
import { paramOf, scheduleProblem, workerConcurrencyProblem } from '../../../scripts/deploy-guard.ts'

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

describe('Function: workerConcurrencyProblem', () => {
  it('lets through 2 to 1000, as a number or a param string, and leaves a value still holding a variable to the framework', () => {
    for (const value of [2, '10', 1000, undefined, '${env:WORKERS}']) expect(workerConcurrencyProblem(value)).toBeUndefined()
  })

  it('refuses what an SQS event source cannot take, naming the param', () => {
    for (const value of [1, '1', 0, 1001, '2.5', 'ten']) expect(workerConcurrencyProblem(value)).toMatch(/^param workerConcurrency must be an integer from 2 to 1000, got /)
  })
})

describe('Function: paramOf', () => {
  const params = { default: { workerConcurrency: 10 }, local: { workerConcurrency: 4 }, prod: {} }

  it('takes the last --param of the name, then the stage\'s own, then the default', () => {
    expect(paramOf('workerConcurrency', 'prod', ['workerConcurrency=3', 'workerConcurrencyX=9', 'workerConcurrency=1'], params)).toBe('1')
    expect(paramOf('workerConcurrency', 'local', [], params)).toBe(4)
    expect(paramOf('workerConcurrency', 'prod', [], params)).toBe(10)
    expect(paramOf('workerConcurrency', 'dev', [], {})).toBeUndefined()
  })
})
