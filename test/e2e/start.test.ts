import { PutObjectCommand } from '@aws-sdk/client-s3'
import pLimit from 'p-limit'
import { readdirSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { setTimeout } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { image, jpegBytes, stallHeaders, startOrigin } from '../../devkit/originFixture.ts'
import { createS3Client } from '../../lib/adapters/s3/client.ts'
import { firstPortInUse } from '../../devkit/processes.ts'
import { commandLine, descendants, isRunning, rssMiB, runNpm, until, type NpmRun } from '../support/processTree.ts'
import { freePort, projectRoot, runServerless } from '../support/serverless.ts'

// `npm start` as a newcomer runs it, in the stages' own build folders: the package of prod beside it
// is what must leave its bundles alone.
const flag = jpegBytes(7)

describe('npm start', () => {
  let started: NpmRun
  let dataDir: string
  let probeDir: string
  const ports = { s3: 0, sqs: 0, dynamoDb: 0, http: 0, lambda: 0 }

  beforeAll(async () => {
    ports.s3 = await freePort()
    ports.sqs = await freePort()
    ports.dynamoDb = await freePort()
    ports.http = await freePort()
    ports.lambda = await freePort()
    dataDir = await mkdtemp(join(tmpdir(), 'imgpull-start-s3-'))
    // A folder of local files inside the project, as a newcomer's own data or scratch would be.
    probeDir = await mkdtemp(join(projectRoot, '.probe-'))
    started = runNpm('start', projectRoot, {
      IMGPULL_LOCAL_S3_PORT: String(ports.s3),
      IMGPULL_LOCAL_SQS_PORT: String(ports.sqs),
      IMGPULL_LOCAL_DYNAMODB_PORT: String(ports.dynamoDb),
      IMGPULL_HTTP_PORT: String(ports.http),
      IMGPULL_LAMBDA_PORT: String(ports.lambda),
      IMGPULL_LOCAL_S3_DIR: dataDir,
    })
    await until('serverless-offline to be ready', () => started.output().includes('Server ready'), 90_000)
  })
  afterAll(async () => {
    if (started.child.exitCode === null) started.child.kill('SIGKILL')
    await rm(dataDir, { recursive: true, force: true })
    await rm(probeDir, { recursive: true, force: true })
  })

  it('keeps serverless-offline bounded and answering while thousands of objects land in the local S3 and the tree', async () => {
    const offlinePid = descendants(started.child.pid!).find((pid) => commandLine(pid).includes('offline start'))
    expect(offlinePid).toBeDefined()
    const atRest = rssMiB(offlinePid!)

    const client = createS3Client({ localEndpoint: `http://127.0.0.1:${ports.s3}` })
    const keys = Array.from({ length: 3000 }, (_, i) => `flags/many/${i}.jpg`)
    const put = pLimit(32)
    await Promise.all(keys.map((key) => put(() => client.send(new PutObjectCommand({ Bucket: 'imgpull-local-images', Key: key, Body: flag })))))
    client.destroy()
    await Promise.all(Array.from({ length: 3000 }, (_, i) => writeFile(join(probeDir, `${i}.txt`), 'x')))

    // Watch the process for a while after the writes: a watcher walking them grows by hundreds of MB a second.
    let peak = atRest
    let slowestPageMs = 0
    for (let sample = 0; sample < 15; sample += 1) {
      const startedAt = performance.now()
      const page = await fetch(`http://127.0.0.1:${ports.http}/`)
      expect(await page.text()).toMatch(/^<h1>Index<\/h1>/)
      slowestPageMs = Math.max(slowestPageMs, performance.now() - startedAt)
      peak = Math.max(peak, rssMiB(offlinePid!))
      await setTimeout(200)
    }
    expect(peak - atRest).toBeLessThan(200)
    expect(slowestPageMs).toBeLessThan(2000)
    expect(readdirSync(join(dataDir, 'imgpull-local-images', 'flags', 'many')).length).toBeGreaterThanOrEqual(3000)
  })

  it('still rebuilds the functions when a source under lib/ changes', async () => {
    // The bundle's map follows source lines, so a comment line put first changes it and nothing else.
    const map = join(projectRoot, '.esbuild', 'local', '.build', 'handlers', 'web.cjs.map')
    const builtAt = statSync(map).mtimeMs
    const source = join(projectRoot, 'lib', 'web', 'pages.ts')
    const original = await readFile(source, 'utf8')
    try {
      await writeFile(source, `// a change the watcher must see\n${original}`)
      await until('the web bundle to be rebuilt', () => statSync(map).mtimeMs > builtAt, 15_000)
    } finally {
      await writeFile(source, original)
    }
    expect(await (await fetch(`http://127.0.0.1:${ports.http}/`)).text()).toMatch(/^<h1>Index<\/h1>/)
  })

  it('keeps answering while a deployed stage is packaged beside it', async () => {
    const packageDir = await mkdtemp(join(tmpdir(), 'imgpull-package-'))
    try {
      const packaged = await runServerless(['package', '--stage', 'prod', '--package', packageDir])
      expect(packaged.code).toBe(0)
    } finally {
      await rm(packageDir, { recursive: true, force: true })
    }
    expect(await (await fetch(`http://127.0.0.1:${ports.http}/hello/still`)).text()).toBe('<h1>hello, still!</h1>')
  })

  it('runs a job through its local queue, table and pollers, from POST /jobs to the report', async () => {
    const codes = Array.from({ length: 120 }, (_, i) => `s${i}`)
    const origin = await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(jpegBytes(7, 300))])))
    try {
      const response = await fetch(`http://127.0.0.1:${ports.http}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ codes: [...codes, 'absent'], baseUrl: origin.baseUrl, prefix: 'flags/started-job/' }),
      })
      expect(response.status).toBe(202)
      const { jobId, statusUrl } = (await response.json()) as { jobId: string; statusUrl: string }
      expect(statusUrl).toBe(`http://127.0.0.1:${ports.http}/jobs/${jobId}`)
      type Job = { state: string; counter: Record<string, number>; reportKey: string; total: number; chunks: number; chunksDone: number }
      let job: Job | undefined
      await until('the job to be done', async () => {
        job = (await (await fetch(statusUrl)).json()) as Job
        return job.state === 'done'
      }, 60_000)
      expect(job?.counter).toEqual({ ok: 120, not_found: 1, error: 0 })
      // Every chunk counted, every code once.
      expect([job?.chunksDone, Object.values(job?.counter ?? {}).reduce((sum, count) => sum + count, 0)]).toEqual([job?.chunks, job?.total])
      const report = await fetch(`http://127.0.0.1:${ports.s3}/imgpull-local-images/${job?.reportKey}`)
      expect(await report.text()).toBe('code,status,reason,attempts,httpStatus,message\nabsent,not_found,not_found,1,404,not found\n')
    } finally {
      await origin.close()
    }
  })

  it('says in one line which port is taken when started twice', async () => {
    const second = runNpm('start', projectRoot, { IMGPULL_LOCAL_S3_PORT: String(ports.s3), IMGPULL_LOCAL_S3_DIR: dataDir })
    expect(await second.exit).toBe(1)
    const lines = second.output().split('\n').filter((line) => line.trim() !== '' && !line.startsWith('npm warn'))
    expect(lines).toEqual([
      `port ${ports.s3} (local S3) is already in use on 127.0.0.1: stop whatever holds it, or move it with IMGPULL_LOCAL_S3_PORT, ` +
        'IMGPULL_LOCAL_SQS_PORT, IMGPULL_LOCAL_DYNAMODB_PORT, IMGPULL_HTTP_PORT or IMGPULL_LAMBDA_PORT',
    ])
  })

  it('stops the local S3, SQS and DynamoDB, serverless-offline and esbuild on a SIGTERM to npm alone, even with a worker mid-chunk', async () => {
    // An origin that answers nothing for a minute: the worker that takes the job's chunk is still
    // running it when the SIGTERM comes, and the stop must not wait for it.
    const slow = await startOrigin({ '/slow0.jpg': stallHeaders(60_000, image(flag)), '/slow1.jpg': stallHeaders(60_000, image(flag)) })
    try {
      const response = await fetch(`http://127.0.0.1:${ports.http}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ codes: ['slow0', 'slow1'], baseUrl: slow.baseUrl, prefix: 'flags/stopped-job/' }),
      })
      expect(response.status).toBe(202)
      await until('a worker to be running the chunk', () => slow.requests.length > 0, 60_000)

      const below = descendants(started.child.pid!)
      expect(below.map(commandLine)).toEqual(
        expect.arrayContaining([expect.stringContaining('scripts/start.ts'), expect.stringContaining('offline start'), expect.stringContaining('esbuild')]),
      )
      started.child.kill('SIGTERM')
      await until('npm and every process below it to end', () => started.child.exitCode !== null && below.every((pid) => !isRunning(pid)), 10_000)
      expect(await started.exit).toBe(0)
    } finally {
      await slow.close()
    }
    expect(await firstPortInUse([
      { port: ports.s3, what: 'local S3' },
      { port: ports.sqs, what: 'local SQS' },
      { port: ports.dynamoDb, what: 'local DynamoDB' },
      { port: ports.http, what: 'HTTP API' },
      { port: ports.lambda, what: 'Lambda endpoint' },
    ])).toBeUndefined()
  })
})
