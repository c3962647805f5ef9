// `npm start`: the whole app on loopback, stopped together by Ctrl-C or by a SIGTERM to npm alone:
// the local S3, SQS and DynamoDB servers, serverless-offline (stage local), and the pollers that
// run the jobs queue and its dead letters through serverless-offline as Lambda's event source
// mappings would. Ports and the data folder can be moved by environment: IMGPULL_LOCAL_S3_PORT,
// IMGPULL_LOCAL_S3_DIR, IMGPULL_LOCAL_SQS_PORT, IMGPULL_LOCAL_DYNAMODB_PORT, IMGPULL_HTTP_PORT,
// IMGPULL_LAMBDA_PORT.
import { SQSClient } from '@aws-sdk/client-sqs'
import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { LOCAL_JOBS, startLocalQueues, startLocalTable, type LocalQueues, type LocalTable } from '../devkit/localJobs.ts'
import { LOCAL_S3, startLocalS3, type LocalS3 } from '../devkit/localS3.ts'
import { exited, firstPortInUse, isAddressInUse, onStopSignal, portInUseMessage, signalGroup, type NamedPort } from '../devkit/processes.ts'
import { startJobPollers, type QueuePoller } from '../devkit/queuePoller.ts'
import { localJobsSettings } from '../devkit/serverlessConfig.ts'

const projectRoot = fileURLToPath(new URL('..', import.meta.url))
const serverlessBin = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url))
// serverless-offline's own time to close its servers; past it the whole group is killed, so a stop
// ends within a few seconds even while a worker runs a chunk (which the queue delivers again).
const OFFLINE_STOP_MS = 2500

const env = process.env
const s3Port: NamedPort = { port: Number(env['IMGPULL_LOCAL_S3_PORT'] ?? LOCAL_S3.port), what: 'local S3' }
const sqsPort: NamedPort = { port: Number(env['IMGPULL_LOCAL_SQS_PORT'] ?? LOCAL_JOBS.sqsPort), what: 'local SQS' }
const dynamoDbPort: NamedPort = { port: Number(env['IMGPULL_LOCAL_DYNAMODB_PORT'] ?? LOCAL_JOBS.dynamoDbPort), what: 'local DynamoDB' }
const httpPort: NamedPort = { port: Number(env['IMGPULL_HTTP_PORT'] ?? 3000), what: 'serverless-offline HTTP API' }
const lambdaPort: NamedPort = { port: Number(env['IMGPULL_LAMBDA_PORT'] ?? 3002), what: 'serverless-offline Lambda endpoint' }
const directory = env['IMGPULL_LOCAL_S3_DIR'] ?? LOCAL_S3.directory
const PORT_HINT = 'move it with IMGPULL_LOCAL_S3_PORT, IMGPULL_LOCAL_SQS_PORT, IMGPULL_LOCAL_DYNAMODB_PORT, IMGPULL_HTTP_PORT or IMGPULL_LAMBDA_PORT'
const ports = [s3Port, sqsPort, dynamoDbPort, httpPort, lambdaPort]

const taken = await firstPortInUse(ports)
if (taken !== undefined) {
  console.error(portInUseMessage(taken, PORT_HINT))
  process.exit(1)
}

// The queue and its consumers as serverless.yml configures them for stage local.
const settings = await localJobsSettings()

let s3: LocalS3 | undefined
let queues: LocalQueues | undefined
let table: LocalTable | undefined
const closeServers = async () => {
  await Promise.allSettled([s3?.close(), queues?.close(), table?.close()])
}
try {
  s3 = await startLocalS3({ port: s3Port.port, directory, buckets: [LOCAL_S3.bucket] })
  queues = await startLocalQueues(sqsPort.port, settings.queue)
  table = await startLocalTable(dynamoDbPort.port)
} catch (error) {
  await closeServers()
  const port = ports.find((named) => String(error).includes(String(named.port)))
  console.error(isAddressInUse(error) && port !== undefined ? portInUseMessage(port, PORT_HINT) : `a local server failed to start: ${String(error)}`)
  process.exit(1)
}
console.log(`local S3 on ${s3.endpoint} (bucket ${LOCAL_S3.bucket}, data in ${directory}/)`)
console.log(`local SQS on ${queues.endpoint} (queue ${LOCAL_JOBS.queue}), local DynamoDB on ${table.endpoint} (table ${LOCAL_JOBS.table})`)

// A process group of its own, so that a stop reaches serverless-offline and the esbuild it starts.
const offline = spawn(
  process.execPath,
  [serverlessBin, 'offline', 'start', '--stage', 'local', '--httpPort', `${httpPort.port}`, '--lambdaPort', `${lambdaPort.port}`],
  {
    cwd: projectRoot,
    stdio: 'inherit',
    detached: true,
    env: { ...env, IMGPULL_LOCAL_S3_ENDPOINT: s3.endpoint, IMGPULL_LOCAL_SQS_ENDPOINT: queues.endpoint, IMGPULL_LOCAL_DYNAMODB_ENDPOINT: table.endpoint },
  },
)
let stopping = false

/** Resolves once serverless-offline's Lambda endpoint takes connections. */
async function lambdaEndpointUp(): Promise<void> {
  while (!stopping && offline.exitCode === null) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(lambdaPort.port, '127.0.0.1', () => socket.end(() => resolve(true)))
      socket.once('error', () => resolve(false))
    })
    if (up) return
    await sleep(250)
  }
}

const sqs = new SQSClient({ endpoint: queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
const lambdaUrl = `http://127.0.0.1:${lambdaPort.port}`
const ready = lambdaEndpointUp()
const report = (error: unknown) => console.error(`[jobs poller] ${error instanceof Error ? error.message : String(error)}`)
const pollers: QueuePoller[] = startJobPollers({ sqs, queues, settings, lambdaUrl, ready, onError: report })

async function stopAll(signal: NodeJS.Signals): Promise<number> {
  stopping = true
  // The pollers first, giving up the invocations in flight: their messages stay in the queue, and
  // a chunk cut short is delivered again, as on AWS when a worker is stopped.
  await Promise.all(pollers.map((poller) => poller.stop()))
  signalGroup(offline, signal)
  const stopped = await Promise.race([exited(offline).then(() => true), sleep(OFFLINE_STOP_MS, false)])
  if (!stopped) {
    signalGroup(offline, 'SIGKILL')
    await exited(offline)
  }
  sqs.destroy()
  await closeServers()
  return 0
}

onStopSignal(stopAll)
// However this process ends (a stop cut short by its grace time included), serverless-offline's
// group, started detached, must not outlive it holding the ports.
process.on('exit', () => signalGroup(offline, 'SIGKILL'))

// serverless-offline ending on its own (a failed start) takes the local servers with it.
offline.on('exit', (code) => {
  if (stopping) return
  stopping = true
  void Promise.all(pollers.map((poller) => poller.stop()))
    .then(closeServers)
    .finally(() => process.exit(code ?? 1))
})
