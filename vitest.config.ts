import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The end-to-end file starts serverless-offline and runs the Serverless CLI.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
