import { loadDownloadConfig } from '../lib/config.ts'
import { multiTriggerHandler } from '../lib/middleware.ts'
import { wireDownloader } from '../lib/wiring.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadDownloadConfig()

export const handler = multiTriggerHandler(wireDownloader(config), { maxBodyBytes: config.maxBodyBytes })
