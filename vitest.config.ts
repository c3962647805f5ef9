import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The end-to-end file starts serverless-offline and runs the Serverless CLI.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The local S3 server (s3rver) makes listing continuation tokens with DES, which Node 24's
    // OpenSSL offers only from its legacy provider; without it a listing past one page fails.
    execArgv: ['--openssl-legacy-provider'],
  },
})
