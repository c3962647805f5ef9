// Runs one download batch in a process of its own, as one Lambda invocation would, and prints
// its result with the process's peak resident memory. Configured by the same environment
// variables as the download function; `{ requests }` comes as JSON on stdin and runs in order, as
// invocations of one warm container would; the figures are the last request's, with the first's as `cold`.
// IMGPULL_BENCH_SINK=discard reads each image to its end and stores nothing: the fetch-only baseline.
// IMGPULL_BENCH_TIMEOUT_MS gives the batch a Lambda's time limit, counted from the request.
// Started with --expose-gc, it also samples live buffer memory: a full collection before each
// sample leaves only the buffers still in use, without the garbage V8 has yet to reclaim.
import { json } from 'node:stream/consumers'
import { loadDownloadConfig } from '../lib/config/download.ts'
import type { ObjectSink } from '../lib/download/ports.ts'
import { composeDownload } from '../lib/wiring/download.ts'

const discardSink: ObjectSink = {
  validatorsOf: async () => undefined,
  async put({ body }) {
    if (Buffer.isBuffer(body)) return
    for await (const chunk of body) void chunk
  },
}

const discard = process.env['IMGPULL_BENCH_SINK'] === 'discard'
const download = composeDownload(loadDownloadConfig(), discard ? { sink: discardSink } : {})

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
const { requests } = (await json(process.stdin)) as { requests: unknown[] }
const timeoutMs = Number(process.env['IMGPULL_BENCH_TIMEOUT_MS'] ?? Number.NaN)
const runs = []
for (const request of requests) {
  const startedAt = performance.now()
  const cpuAtStart = process.cpuUsage()
  const result = await download(
    request,
    Number.isNaN(timeoutMs) ? {} : { remainingMs: () => timeoutMs - (performance.now() - startedAt) },
  )
  const cpu = process.cpuUsage(cpuAtStart)
  runs.push({ result, elapsedMs: performance.now() - startedAt, cpuMs: (cpu.user + cpu.system) / 1000 })
}
clearInterval(sampler)
// maxRSS is in KiB: the true peak, not a sample that might miss it.
const peakRssBytes = process.resourceUsage().maxRSS * 1024

// The last line: the handler's own logs may come before it.
process.stdout.write(`\n${JSON.stringify({ ...runs.at(-1), cold: runs[0], idleRssBytes, peakRssBytes, peakLiveBuffersBytes })}\n`)
process.exit(0)
