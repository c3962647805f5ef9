import { createOriginAgent, httpImageSource } from '../lib/adapters/httpImageSource.ts'
import { createS3Client, s3ObjectSink } from '../lib/adapters/s3ObjectSink.ts'
import { loadDownloadConfig } from '../lib/config.ts'
import { createDownloader } from '../lib/download/downloader.ts'
import { multiTriggerHandler } from '../lib/middleware.ts'

// Built once per container: a bad variable fails the cold start, and connections are reused.
const config = loadDownloadConfig()
const download = createDownloader({
  config,
  source: httpImageSource(createOriginAgent(config.originTimeouts)),
  sink: s3ObjectSink(createS3Client(config), config.bucket),
})

export const handler = multiTriggerHandler(download)
