import { describe, expect, it } from 'vitest'
import { runServerless } from '../support/serverless.ts'

// The deploy guard's refusals, each a Serverless CLI run that must stop before anything is built.
// A build folder of this file's own all the same, should one of them ever get that far.
const BUILD_FOLDER = '.esbuild/guard-test'

// All at once: nine CLI starts on a shared machine, the packaging ones taking turns with the other
// files' (test/support/serverless.ts), so each may wait well past the default minute.
describe.concurrent('stage local never leaves this machine', { timeout: 180_000 }, () => {
  it.each([
    ['package with no stage', ['package']],
    ['deploy with no stage', ['deploy']],
    ['deploy of stage local', ['deploy', '--stage', 'local']],
    ['deploy of one function', ['deploy', 'function', '-f', 'download']],
  ])('refuses %s at once, naming the stages to use', async (_, args) => {
    const { code, stdout, stderr } = await runServerless(args, { buildFolder: BUILD_FOLDER })
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('Stage "local" only runs on this machine')
    expect(`${stdout}${stderr}`).toContain('--stage dev')
    // Refused before anything is built or any AWS credential is looked for.
    expect(`${stdout}${stderr}`).not.toMatch(/credentials|Bundling|Service packaged/i)
  })

  it('refuses to ship an enabled schedule that names no batch of the operator\'s', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=scheduleEnabled=true'], { buildFolder: BUILD_FOLDER })
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('the schedule is enabled (param scheduleEnabled) but param scheduleRequest names no codes')
  })

  it('refuses a schedule batch that is not JSON', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=scheduleRequest={"codes":['], { buildFolder: BUILD_FOLDER })
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('param scheduleRequest must be a JSON object')
  })

  it.each([
    ['given on the command line', ['--param=workerConcurrency=1']],
    ['given twice, the last one counting', ['--param=workerConcurrency=2', '--param=workerConcurrency=1']],
  ])('refuses a worker concurrency of 1, %s, naming the param, before the framework\'s own check', async (_, params) => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', ...params], { buildFolder: BUILD_FOLDER })
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('param workerConcurrency must be an integer from 2 to 1000, got "1"')
    expect(`${stdout}${stderr}`).not.toMatch(/Bundling|Service packaged/i)
  })

  it('refuses to ship the gallery open on a deployed stage', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=galleryAccess=open'], { buildFolder: BUILD_FOLDER })
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('/gallery would be public on a deployed stage')
  })
})
