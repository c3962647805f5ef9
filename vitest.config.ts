import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

// Files that run one at a time, after the others. The jobs files' short queue timeouts (a worker
// may run 6 s, a message is invisible for 8 s) leave them no CPU to share: beside other files the
// 20 000-code job runs several times longer, a serverless-offline killed mid-chunk takes longer to
// start again than its chunk's deliveries, and the others' timing-bound tests fail. (The npm start
// file edits a source under lib/; the other files' serverless-offline run without hot reload, so
// it may run beside them.)
const ALONE = ['test/e2e/jobs.test.ts', 'test/e2e/bigJob.test.ts', 'test/e2e/plannerKilled.test.ts']
const UNIT = ['test/unit/**/*.test.ts']

export default defineConfig({
  test: {
    // The end-to-end files start serverless-offline and run the Serverless CLI.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two files at a time even on two cores, where vitest's default is one: an end-to-end file
    // spends most of its time waiting on the processes it starts (the CLI, serverless-offline,
    // esbuild, local servers), so a second file fills the wait. Each file builds into a folder
    // of its own (test/support/serverless.ts), so files side by side never share bundles.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    // The local S3 server (s3rver) makes listing continuation tokens with DES, which Node 24's
    // OpenSSL offers only from its legacy provider; without it a listing past one page fails.
    execArgv: ['--openssl-legacy-provider'],
    projects: [
      // The unit tests start no server and mock no module: one worker runs them all, instead of a
      // fresh one per file (most of their time was spent starting workers).
      { extends: true, test: { name: 'unit', include: UNIT, isolate: false, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'side-by-side', include: ['test/**/*.test.ts'], exclude: [...ALONE, ...UNIT], sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
})
