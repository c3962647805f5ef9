// `npm start`: the local S3 server and serverless-offline (stage local), stopped together by
// Ctrl-C or by a SIGTERM to npm alone. Ports and the data folder can be moved by environment:
// IMGPULL_LOCAL_S3_PORT, IMGPULL_LOCAL_S3_DIR, IMGPULL_HTTP_PORT, IMGPULL_LAMBDA_PORT.
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { LOCAL_S3, startLocalS3, type LocalS3 } from '../devkit/localS3.ts'
import { exited, firstPortInUse, isAddressInUse, onStopSignal, portInUseMessage, signalGroup, type NamedPort } from '../devkit/processes.ts'

const projectRoot = fileURLToPath(new URL('..', import.meta.url))
const serverlessBin = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url))
// serverless-offline's own time to close its servers; past it the whole group is killed.
const OFFLINE_STOP_MS = 4000

const env = process.env
const s3Port: NamedPort = { port: Number(env['IMGPULL_LOCAL_S3_PORT'] ?? LOCAL_S3.port), what: 'local S3' }
const httpPort: NamedPort = { port: Number(env['IMGPULL_HTTP_PORT'] ?? 3000), what: 'serverless-offline HTTP API' }
const lambdaPort: NamedPort = { port: Number(env['IMGPULL_LAMBDA_PORT'] ?? 3002), what: 'serverless-offline Lambda endpoint' }
const directory = env['IMGPULL_LOCAL_S3_DIR'] ?? LOCAL_S3.directory
const PORT_HINT = 'move it with IMGPULL_LOCAL_S3_PORT, IMGPULL_HTTP_PORT or IMGPULL_LAMBDA_PORT'

const taken = await firstPortInUse([s3Port, httpPort, lambdaPort])
if (taken !== undefined) {
  console.error(portInUseMessage(taken, PORT_HINT))
  process.exit(1)
}

let s3: LocalS3
try {
  s3 = await startLocalS3({ port: s3Port.port, directory, buckets: [LOCAL_S3.bucket] })
} catch (error) {
  console.error(isAddressInUse(error) ? portInUseMessage(s3Port, PORT_HINT) : `local S3 failed to start: ${String(error)}`)
  process.exit(1)
}
console.log(`local S3 on ${s3.endpoint} (bucket ${LOCAL_S3.bucket}, data in ${directory}/)`)

// A process group of its own, so that a stop reaches serverless-offline and the esbuild it starts.
const offline = spawn(
  process.execPath,
  [serverlessBin, 'offline', 'start', '--stage', 'local', '--httpPort', `${httpPort.port}`, '--lambdaPort', `${lambdaPort.port}`],
  { cwd: projectRoot, stdio: 'inherit', detached: true, env: { ...env, IMGPULL_LOCAL_S3_ENDPOINT: s3.endpoint } },
)

let stopping = false

async function stopAll(signal: NodeJS.Signals): Promise<number> {
  stopping = true
  signalGroup(offline, signal)
  const stopped = await Promise.race([exited(offline).then(() => true), sleep(OFFLINE_STOP_MS, false)])
  if (!stopped) signalGroup(offline, 'SIGKILL')
  await s3.close()
  return 0
}

onStopSignal(stopAll)

// serverless-offline ending on its own (a failed start) takes the local S3 with it.
offline.on('exit', (code) => {
  if (stopping) return
  void s3.close().finally(() => process.exit(code ?? 1))
})
