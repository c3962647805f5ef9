import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

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

/** The environment the Serverless CLI runs under in tests: stage local, pointed at the test's S3. */
function cliEnv(localS3Endpoint: string): NodeJS.ProcessEnv {
  return { ...process.env, IMGPULL_LOCAL_S3_ENDPOINT: localS3Endpoint, SLS_TELEMETRY_DISABLED: '1' }
}

// A port nothing listens on: commands that should never reach S3 get nowhere if they try.
const NO_S3 = 'http://127.0.0.1:9'

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs one Serverless CLI command to its end, with the Node.js running the tests. */
export function runServerless(args: readonly string[], { localS3Endpoint = NO_S3 }: { localS3Endpoint?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverlessBin, ...args], { cwd: projectRoot, env: cliEnv(localS3Endpoint) })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
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
  /** Ports to listen on; free ones when left out. */
  readonly httpPort?: number
  readonly lambdaPort?: number
}

export async function startOffline({ localS3Endpoint, stage = 'local', params = {}, env = {}, ...ports }: OfflineOptions): Promise<Offline> {
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
    { cwd: projectRoot, env: { ...cliEnv(localS3Endpoint), ...env }, detached: true },
  )
  await untilReady(child)
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    lambdaUrl: `http://127.0.0.1:${lambdaPort}`,
    stop: () => signalled(child, 'SIGTERM'),
    kill: () => signalled(child, 'SIGKILL'),
  }
}

function untilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Server ready')) resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.on('exit', (code) => reject(new Error(`serverless offline exited with ${code}:\n${output}`)))
  })
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
