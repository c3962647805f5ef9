import S3rver from 's3rver'

/** Where the local S3 server of `npm start` listens and what it holds. */
export const LOCAL_S3 = Object.freeze({
  port: 4569,
  // Inside node_modules, which no file watcher walks (serverless-offline's, an editor's, vitest's):
  // a watched folder that fills with thousands of objects is re-read on every write.
  directory: 'node_modules/.cache/imgpull/local-s3',
  bucket: 'imgpull-local-images',
})

export interface LocalS3Options {
  /** 0 picks a free port. */
  readonly port: number
  /** Folder the objects persist in. */
  readonly directory: string
  readonly buckets: readonly string[]
  readonly silent?: boolean
}

export interface LocalS3 {
  readonly endpoint: string
  close(): Promise<void>
}

/**
 * Starts an S3-protocol server on loopback, with the given buckets created. Its process needs
 * `--openssl-legacy-provider`: s3rver makes listing continuation tokens with DES, so without it
 * a listing longer than one page fails (and the download falls back to a look-up per key).
 */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: options.silent ?? true,
    configureBuckets: options.buckets.map((name) => ({ name })),
  })
  const { port } = await server.run()
  return { endpoint: `http://127.0.0.1:${port}`, close: () => server.close() }
}
