import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { unzipTo } from '../devkit/zip.ts'

const run = promisify(execFile)
const projectRoot = fileURLToPath(new URL('..', import.meta.url))
const serverlessBin = join(projectRoot, 'node_modules/serverless/bin/serverless.js')
const FUNCTIONS = ['web', 'download'] as const
// What the download handler reads at import; the values only have to pass validation.
const DOWNLOAD_ENV = { BUCKET_NAME: 'imgpull-bench', STAGE: 'prod' }

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Time for a fresh Node process to require a bundled handler, in ms, measured inside that process. */
async function importMs(file: string, env: Record<string, string>): Promise<number> {
  const script = `const t = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t))`
  const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, ...env } })
  return Number(stdout)
}

/** The service packaged for stage prod (offline), each function's zip unpacked. */
export interface PackagedService {
  zip(name: (typeof FUNCTIONS)[number]): string
  /** The bundled handler file of a function, as Lambda loads it. */
  handler(name: (typeof FUNCTIONS)[number]): string
  remove(): Promise<void>
}

export async function packageService(): Promise<PackagedService> {
  const packageDir = await mkdtemp(join(tmpdir(), 'imgpull-package-'))
  const unzipDir = await mkdtemp(join(tmpdir(), 'imgpull-unzip-'))
  await run(process.execPath, [serverlessBin, 'package', '--stage', 'prod', '--package', packageDir], {
    cwd: projectRoot,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
  })
  for (const name of FUNCTIONS) await unzipTo(join(packageDir, `${name}.zip`), join(unzipDir, name))
  return {
    zip: (name) => join(packageDir, `${name}.zip`),
    handler: (name) => join(unzipDir, name, 'handlers', `${name}.cjs`),
    remove: async () => {
      await rm(packageDir, { recursive: true, force: true })
      await rm(unzipDir, { recursive: true, force: true })
    },
  }
}

/**
 * Per function of the packaged service: zip size, unzipped handler size, whether it carries the
 * S3 client or undici, and the median time of `samples` fresh processes to import the handler.
 */
export async function measureColdStart(service: PackagedService, samples: number) {
  const rows = []
  for (const name of FUNCTIONS) {
    const handler = service.handler(name)
    const source = await readFile(handler, 'utf8')
    const files = await readdir(dirname(dirname(handler)), { recursive: true })
    const times = []
    for (let i = 0; i < samples; i += 1) times.push(await importMs(handler, name === 'download' ? DOWNLOAD_ENV : {}))
    rows.push({
      function: name,
      'zip KB': Math.round((await stat(service.zip(name))).size / 1024),
      'unzipped KB': Math.round((await stat(handler)).size / 1024),
      files: files.length,
      'has S3 client': source.includes('S3Client'),
      'has undici': source.includes('undici'),
      'has Powertools': source.includes('POWERTOOLS_'),
      'import ms (median)': Number(median(times).toFixed(1)),
    })
  }
  return rows
}
