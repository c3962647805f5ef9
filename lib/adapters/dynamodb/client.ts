import { DynamoDBClient } from '@aws-sdk/client-dynamodb'
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'

/** Where the DynamoDB client connects: AWS itself, or the local DynamoDB server of a local run. */
export interface DynamoDbClientOptions {
  readonly localEndpoint?: string | undefined
}

// The local server accepts any credentials; these only have to be present.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' }

/** A document client (plain JavaScript values in and out) on the default AWS chain, or on the local server. */
export function createDynamoDbClient({ localEndpoint }: DynamoDbClientOptions = {}): DynamoDBDocumentClient {
  const client =
    localEndpoint === undefined
      ? new DynamoDBClient({})
      : new DynamoDBClient({ endpoint: localEndpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS })
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } })
}
