// What a user would otherwise write, run as one Lambda invocation would: p-limit, fetch, and the
// whole body put into S3 with one PutObject. With IMGPULL_BENCH_SINK=discard it only fetches:
// the floor. Same requests on stdin and same figures on stdout as downloadWorker.ts.
import { PutObjectCommand } from '@aws-sdk/client-s3'
import pLimit from 'p-limit'
import { json } from 'node:stream/consumers'
import { createS3Client } from '../lib/adapters/s3/client.ts'

interface Request {
  readonly codes: string[]
  readonly concurrency: number
  readonly prefix: string
}

const env = process.env
const baseUrl = env['BASE_URL'] ?? ''
const bucket = env['BUCKET_NAME'] ?? ''
const discard = env['IMGPULL_BENCH_SINK'] === 'discard'
const client = createS3Client({ localEndpoint: env['LOCAL_S3_ENDPOINT'] })

const idleRssBytes = process.memoryUsage.rss()
const { requests } = (await json(process.stdin)) as { requests: Request[] }
const runs = []
for (const request of requests) {
  const startedAt = performance.now()
  const cpuAtStart = process.cpuUsage()
  const limit = pLimit(request.concurrency)
  const counter = { ok: 0, not_found: 0, error: 0 }
  await Promise.all(
    request.codes.map((code) =>
      limit(async () => {
        try {
          const response = await fetch(`${baseUrl}/${code.toLowerCase()}.jpg`)
          if (response.status === 404) return void (counter.not_found += 1)
          const body = Buffer.from(await response.arrayBuffer())
          if (!discard) {
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${request.prefix}${code.toLowerCase()}.jpg`, Body: body, ContentType: 'image/jpeg' }))
          }
          counter.ok += 1
        } catch {
          counter.error += 1
        }
      }),
    ),
  )
  const cpu = process.cpuUsage(cpuAtStart)
  runs.push({ result: { counter }, elapsedMs: performance.now() - startedAt, cpuMs: (cpu.user + cpu.system) / 1000 })
}
const peakRssBytes = process.resourceUsage().maxRSS * 1024
process.stdout.write(`\n${JSON.stringify({ ...runs.at(-1), cold: runs[0], idleRssBytes, peakRssBytes })}\n`)
process.exit(0)
