// `npm start`: the local S3 server and serverless-offline (stage local), stopped together by Ctrl-C.
import { spawn } from 'node:child_process'
import { LOCAL_S3, startLocalS3 } from './local-s3.ts'

const s3 = await startLocalS3({ port: LOCAL_S3.port, directory: LOCAL_S3.directory, buckets: [LOCAL_S3.bucket] })
console.log(`local S3 on ${s3.endpoint} (bucket ${LOCAL_S3.bucket}, data in ${LOCAL_S3.directory}/)`)

const offline = spawn('serverless', ['offline', 'start', '--stage', 'local'], { stdio: 'inherit' })

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => offline.kill(signal))
}

offline.on('exit', (code, signal) => {
  void s3.close().finally(() => process.exit(code ?? (signal === null ? 0 : 1)))
})
