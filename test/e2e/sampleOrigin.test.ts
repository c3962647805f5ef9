import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { firstPortInUse } from '../../devkit/processes.ts'
import { descendants, isRunning, runNpm, until, type NpmRun } from '../support/processTree.ts'
import { freePort, projectRoot } from '../support/serverless.ts'

let run: NpmRun | undefined
let blocker: Server | undefined

afterEach(async () => {
  if (run?.child.exitCode === null) run.child.kill('SIGKILL')
  await new Promise<void>((resolve) => (blocker === undefined ? resolve() : blocker.close(() => resolve())))
  run = undefined
  blocker = undefined
})

describe('npm run sample-origin', () => {
  it('serves the sample JPEG and stops, with everything it started, on a SIGTERM to npm alone', async () => {
    const port = await freePort()
    run = runNpm('sample-origin', projectRoot, { IMGPULL_SAMPLE_ORIGIN_PORT: String(port) })
    await until('the sample origin to listen', () => run!.output().includes(`sample origin on http://127.0.0.1:${port}`))
    const below = descendants(run.child.pid!)
    expect(below.length).toBeGreaterThan(0)

    const image = await fetch(`http://127.0.0.1:${port}/a.jpg`)
    expect(image.status).toBe(200)
    expect(image.headers.get('content-type')).toBe('image/jpeg')
    // A keep-alive connection stays open: it must not hold the stop.
    expect((await fetch(`http://127.0.0.1:${port}/missing.jpg`)).status).toBe(404)

    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    await until('every process below npm to end', () => below.every((pid) => !isRunning(pid)), 5000)
    expect(await firstPortInUse([{ port, what: 'sample origin' }])).toBeUndefined()
  })

  it('says in one line which port is taken, without a stack trace', async () => {
    const port = await freePort()
    blocker = createServer()
    await new Promise<void>((resolve) => blocker!.listen(port, '127.0.0.1', resolve))

    run = runNpm('sample-origin', projectRoot, { IMGPULL_SAMPLE_ORIGIN_PORT: String(port) })
    expect(await run.exit).toBe(1)
    const lines = run.output().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'))
    expect(lines).toEqual([expect.stringContaining(`port ${port} (sample origin) is already in use`)])
  })
})
