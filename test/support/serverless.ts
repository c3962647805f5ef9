import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { untilPrinted } from '../../devkit/processes.ts'
import { isRunning } from './processTree.ts'

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url))
const serverlessBin = fileURLToPath(new URL('../../node_modules/serverless/bin/serverless.js', import.meta.url))

/** A TCP port that was free a moment ago on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * The environment the Serverless CLI runs under in tests: stage local, pointed at the test's S3, and
 * building into the test file's own folder when it names one, so that files running side by side
 * never empty or overwrite each other's bundles.
 */
function cliEnv(localS3Endpoint: string, buildFolder: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IMGPULL_LOCAL_S3_ENDPOINT: localS3Endpoint, SLS_TELEMETRY_DISABLED: '1' }
  if (buildFolder !== undefined) env['IMGPULL_BUILD_FOLDER'] = buildFolder
  return env
}

// A port nothing listens on: commands that should never reach S3 get nowhere if they try.
const NO_S3 = 'http://127.0.0.1:9'

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface CliOptions {
  /** The local S3 that stage local stores into; a port nothing listens on when left out. */
  readonly localS3Endpoint?: string
  /** The build folder (IMGPULL_BUILD_FOLDER); the stage's own when left out. */
  readonly buildFolder?: string
}

/** Runs one Serverless CLI command to its end, with the Node.js running the tests; a package takes its turn. */
export function runServerless(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return args[0] === 'package' ? packagingTurn(() => runCli(args, options)) : runCli(args, options)
}

// `serverless package` builds in the project's own .serverless folder and then moves what it made
// to --package, so two packages at once (test files side by side) would empty each other's: they
// take turns, held by a folder only one process can create.
const PACKAGING_TURN = join(tmpdir(), `imgpull-packaging-${createHash('sha256').update(projectRoot).digest('hex').slice(0, 12)}`)
const PACKAGING_WAIT_MS = 10 * 60_000

async function packagingTurn<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + PACKAGING_WAIT_MS
  for (;;) {
    try {
      await mkdir(PACKAGING_TURN)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    // A turn whose test process died is over.
    const holder = Number(await readFile(join(PACKAGING_TURN, 'pid'), 'utf8').catch(() => '0'))
    if (holder > 0 && !isRunning(holder)) await rm(PACKAGING_TURN, { recursive: true, force: true })
    else if (Date.now() > deadline) throw new Error(`another serverless package held ${PACKAGING_TURN} for ${PACKAGING_WAIT_MS} ms`)
    else await sleep(100)
  }
  try {
    await writeFile(join(PACKAGING_TURN, 'pid'), String(process.pid))
    return await run()
  } finally {
    await rm(PACKAGING_TURN, { recursive: true, force: true })
  }
}

function runCli(args: readonly string[], { localS3Endpoint = NO_S3, buildFolder }: CliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverlessBin, ...args], { cwd: projectRoot, env: cliEnv(localS3Endpoint, buildFolder) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

export interface Packaged<Template> {
  /** The folder holding the zips and templates; the caller removes it. */
  readonly dir: string
  readonly template: Template
}

/**
 * Runs `serverless package` for a stage into a fresh folder, with extra CLI arguments (`--param=…`),
 * and reads the CloudFormation template it wrote; throws with the CLI's output when it fails.
 */
export async function packageStage<Template>(stage: string, args: readonly string[], buildFolder: string): Promise<Packaged<Template>> {
  const dir = await mkdtemp(join(tmpdir(), `imgpull-${stage}-`))
  try {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', stage, '--package', dir, ...args], { buildFolder })
    if (code !== 0) throw new Error(`package ${stage} failed:\n${stdout}\n${stderr}`)
    const template = JSON.parse(await readFile(join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template
    return { dir, template }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

/** The CloudFormation template of a stage as `serverless package` writes it, without the zips. */
export async function packagedTemplate<Template>(stage: string, args: readonly string[], buildFolder: string): Promise<Template> {
  const { dir, template } = await packageStage<Template>(stage, args, buildFolder)
  await rm(dir, { recursive: true, force: true })
  return template
}

export interface Offline {
  readonly httpUrl: string
  readonly lambdaUrl: string
  /** Stops it as Ctrl-C would. */
  stop(): Promise<void>
  /** Kills it and everything it started at once, as a crashed host would. */
  kill(): Promise<void>
}

/**
 * Starts serverless-offline on free ports, for stage local unless told otherwise, with any
 * `--param` overrides; resolves once it says it is ready.
 */
export interface OfflineOptions {
  /** The local S3 that stage local stores into. */
  readonly localS3Endpoint: string
  readonly stage?: string
  /** `--param` overrides. */
  readonly params?: Record<string, string>
  /** More environment, e.g. the local SQS and DynamoDB endpoints. */
  readonly env?: Record<string, string>
  /** A build folder of the test file's own, so that two serverless-offline of one stage do not share one. */
  readonly buildFolder?: string
  /** Ports to listen on; free ones when left out. */
  readonly httpPort?: number
  readonly lambdaPort?: number
}

export async function startOffline({ localS3Endpoint, stage = 'local', params = {}, env = {}, buildFolder, ...ports }: OfflineOptions): Promise<Offline> {
  const httpPort = ports.httpPort ?? (await freePort())
  const lambdaPort = ports.lambdaPort ?? (await freePort())
  const paramArgs = Object.entries(params).map(([key, value]) => `--param=${key}=${value}`)
  const child = spawn(
    process.execPath,
    [
      serverlessBin,
      'offline',
      'start',
      '--stage',
      stage,
      ...paramArgs,
      '--httpPort',
      `${httpPort}`,
      '--lambdaPort',
      `${lambdaPort}`,
    ],
    // A process group of its own, so that a kill reaches the esbuild it starts too.
    // No hot reload: the npm start test edits a source under lib/ while other files' serverless-offline run.
    { cwd: projectRoot, env: { ...cliEnv(localS3Endpoint, buildFolder), IMGPULL_HOT_RELOAD: 'off', ...env }, detached: true },
  )
  await untilPrinted(child, 'serverless offline', 'Server ready')
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    lambdaUrl: `http://127.0.0.1:${lambdaPort}`,
    stop: () => signalled(child, 'SIGTERM'),
    kill: () => signalled(child, 'SIGKILL'),
  }
}

function signalled(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.on('exit', () => resolve())
    try {
      process.kill(-(child.pid ?? 0), signal)
    } catch {
      child.kill(signal)
    }
  })
}
