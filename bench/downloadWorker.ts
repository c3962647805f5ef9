// Runs one download batch in a process of its own, as one Lambda invocation would, and prints
// its result with the process's peak resident memory. Configured by the same environment
// variables as the download function; the request is the first argument, as JSON.
// Started with --expose-gc, it also samples live buffer memory: a full collection before each
// sample leaves only the buffers still in use, without the garbage V8 has yet to reclaim.
import { loadDownloadConfig } from '../lib/config.ts'
import { wireDownloader } from '../lib/wiring.ts'

const download = wireDownloader(loadDownloadConfig())

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
const startedAt = performance.now()
const result = await download(JSON.parse(process.argv[2] ?? '{}'))
const elapsedMs = performance.now() - startedAt
clearInterval(sampler)
// maxRSS is in KiB: the true peak, not a sample that might miss it.
const peakRssBytes = process.resourceUsage().maxRSS * 1024

process.stdout.write(JSON.stringify({ result, elapsedMs, idleRssBytes, peakRssBytes, peakLiveBuffersBytes }))
process.exit(0)
