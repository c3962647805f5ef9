import { SQSClient } from '@aws-sdk/client-sqs'
import { afterAll, beforeAll } from 'vitest'
import { startLocalQueues, startLocalTable, type LocalQueues, type LocalTable, type QueueSettings } from '../../devkit/localJobs.ts'
import { startJobPollers, type QueuePoller } from '../../devkit/queuePoller.ts'
import { startS3FaultProxy, type S3Fault } from '../../devkit/s3FaultProxy.ts'
import { localJobsSettings, type LocalJobsSettings } from '../../devkit/serverlessConfig.ts'
import { startTestS3, type TestS3 } from './localS3.ts'
import { startOffline, type Offline } from './serverless.ts'

/** The whole app as `npm start` runs it, on free ports, for one test file. */
export interface LocalStack {
  readonly s3: TestS3
  readonly queues: LocalQueues
  readonly table: LocalTable
  readonly sqs: SQSClient
  readonly settings: LocalJobsSettings
  /** serverless-offline as it is now: `crashAndRestart` replaces it. */
  readonly offline: Offline
  /** Kills serverless-offline and everything it runs at once, and starts it again on the same ports. */
  crashAndRestart(): Promise<void>
  stop(): Promise<void>
}

export interface LocalStackOptions {
  /** A build folder of the file's own, so that two serverless-offline of stage local do not share one. */
  readonly buildFolder: string
  /** `--param` overrides, for serverless-offline and for the settings the pollers read. */
  readonly params?: Record<string, string>
  /** The jobs queue's settings; the template's when left out. */
  readonly queue?: QueueSettings
  /** Puts an S3 fault proxy between serverless-offline and the local S3, deciding each request's fate. */
  readonly s3Faults?: (method: string, url: string) => S3Fault
  /**
   * Puts the same proxy between serverless-offline and the local SQS server (the pollers reach it
   * directly), deciding each request's fate by its action, e.g. `AmazonSQS.SendMessageBatch`:
   * every fault but `status`, whose answer is S3's error document, means the same there.
   */
  readonly sqsFaults?: (action: string) => S3Fault
}

/**
 * The local S3 (bucket imgpull-local-images), SQS and DynamoDB servers, serverless-offline of stage
 * local pointed at them, and the pollers standing in for Lambda's event source mappings.
 */
export async function startLocalStack({ buildFolder, params = {}, queue, s3Faults, sqsFaults }: LocalStackOptions): Promise<LocalStack> {
  const s3 = await startTestS3('imgpull-local-images')
  const proxy = s3Faults === undefined ? undefined : await startS3FaultProxy(s3.endpoint, s3Faults)
  const settings = await localJobsSettings('local', params)
  const queues = await startLocalQueues(0, queue ?? settings.queue)
  const table = await startLocalTable(0)
  const sqsProxy = sqsFaults === undefined ? undefined : await startS3FaultProxy(queues.endpoint, (_method, _url, _index, headers) => sqsFaults(String(headers['x-amz-target'] ?? '')))
  const offlineOn = (ports: { httpPort?: number; lambdaPort?: number } = {}) =>
    startOffline({
      localS3Endpoint: proxy?.endpoint ?? s3.endpoint,
      params,
      env: { IMGPULL_LOCAL_SQS_ENDPOINT: sqsProxy?.endpoint ?? queues.endpoint, IMGPULL_LOCAL_DYNAMODB_ENDPOINT: table.endpoint },
      buildFolder,
      ...ports,
    })
  let offline = await offlineOn()
  const sqs = new SQSClient({ endpoint: queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  const pollers: QueuePoller[] = startJobPollers({ sqs, queues, settings, lambdaUrl: offline.lambdaUrl })
  return {
    s3,
    queues,
    table,
    sqs,
    settings,
    get offline() {
      return offline
    },
    async crashAndRestart() {
      const ports = { httpPort: Number(new URL(offline.httpUrl).port), lambdaPort: Number(new URL(offline.lambdaUrl).port) }
      await offline.kill()
      offline = await offlineOn(ports)
    },
    async stop() {
      await Promise.all(pollers.map((poller) => poller.stop()))
      await offline.stop()
      sqs.destroy()
      await Promise.all([s3.close(), queues.close(), table.close(), proxy?.close(), sqsProxy?.close()])
    },
  }
}

/** A local stack for the test file that calls it: started before its tests, stopped after them. */
export function useLocalStack(options: LocalStackOptions): () => LocalStack {
  let stack: LocalStack | undefined
  beforeAll(async () => {
    stack = await startLocalStack(options)
  }, 180_000)
  afterAll(async () => {
    await stack?.stop()
  })
  return () => {
    if (stack === undefined) throw new Error('the local stack is not started yet')
    return stack
  }
}
