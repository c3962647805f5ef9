import { SQSClient } from '@aws-sdk/client-sqs'

/** Where the SQS client connects: AWS itself, or the local SQS server of a local run. */
export interface SqsClientOptions {
  readonly localEndpoint?: string | undefined
}

// The local server accepts any credentials; these only have to be present.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

/** An SQS client on the default AWS chain, or on the local server. */
export function createSqsClient({ localEndpoint }: SqsClientOptions = {}): SQSClient {
  if (localEndpoint === undefined) return new SQSClient({})
  return new SQSClient({ endpoint: localEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS })
}
