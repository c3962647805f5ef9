// Runs one download batch in a process of its own, as one Lambda invocation would, and prints
// its result with the process's peak resident memory. Configured by the same environment
// variables as the download function; the request comes as JSON on stdin.
// IMGPULL_BENCH_SINK=discard reads each image to its end and stores nothing: the fetch-only baseline.
// IMGPULL_BENCH_HANDLER=<bundled download.cjs> runs the packaged Lambda handler itself instead.
// Started with --expose-gc, it also samples live buffer memory: a full collection before each
// sample leaves only the buffers still in use, without the garbage V8 has yet to reclaim.
import { createRequire } from 'node:module'
import { json } from 'node:stream/consumers'
import type { Context } from 'aws-lambda'
import type { ObjectSink } from '../lib/download/ports.ts'
import type { DownloadResult } from '../lib/download/downloader.ts'

const discardSink: ObjectSink = {
  validatorsOf: async () => undefined,
  async put({ body }) {
    for await (const chunk of body) void chunk
  },
}

type LambdaHandler = (event: unknown, context: Context) => Promise<DownloadResult>

/** The packaged handler, invoked directly as Lambda would, with a context of 15 minutes. */
function bundledHandler(file: string): (request: unknown) => Promise<DownloadResult> {
  const { handler } = createRequire(import.meta.url)(file) as { handler: LambdaHandler }
  const startedAt = Date.now()
  const context = {
    functionName: 'imgpull-bench-download',
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    awsRequestId: 'bench',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:imgpull-bench-download',
    getRemainingTimeInMillis: () => 15 * 60_000 - (Date.now() - startedAt),
  } as Context
  return (request) => handler(request, context)
}

/** The engine from source; loaded only when used, so a bundled run's memory holds the bundle alone. */
async function sourceDownloader(): Promise<(request: unknown) => Promise<DownloadResult>> {
  const { loadDownloadConfig } = await import('../lib/config.ts')
  const { wireDownloader } = await import('../lib/wiring.ts')
  const discard = process.env['IMGPULL_BENCH_SINK'] === 'discard'
  return wireDownloader(loadDownloadConfig(), discard ? { sink: discardSink } : {})
}

const handlerFile = process.env['IMGPULL_BENCH_HANDLER']
const download = handlerFile === undefined ? await sourceDownloader() : bundledHandler(handlerFile)

const collect = (globalThis as { gc?: () => void }).gc
let peakLiveBuffersBytes: number | undefined
const sampler =
  collect === undefined
    ? undefined
    : setInterval(() => {
        collect()
        peakLiveBuffersBytes = Math.max(peakLiveBuffersBytes ?? 0, process.memoryUsage().arrayBuffers)
      }, 20)

const idleRssBytes = process.memoryUsage.rss()
const request = await json(process.stdin)
const startedAt = performance.now()
const cpuAtStart = process.cpuUsage()
const result = await download(request)
const elapsedMs = performance.now() - startedAt
const cpu = process.cpuUsage(cpuAtStart)
const cpuMs = (cpu.user + cpu.system) / 1000
clearInterval(sampler)
// maxRSS is in KiB: the true peak, not a sample that might miss it.
const peakRssBytes = process.resourceUsage().maxRSS * 1024

// The last line: the handler's own logs may come before it.
process.stdout.write(`\n${JSON.stringify({ result, elapsedMs, cpuMs, idleRssBytes, peakRssBytes, peakLiveBuffersBytes })}\n`)
process.exit(0)
