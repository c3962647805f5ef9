import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { unzipSync } from 'fflate'

/** Unpacks a zip into a folder, in-process: a fresh machine need not have an unzip command. */
export async function unzipTo(zipFile: string, directory: string): Promise<void> {
  const entries = unzipSync(await readFile(zipFile))
  for (const [name, bytes] of Object.entries(entries)) {
    if (name.endsWith('/')) continue
    const target = join(directory, name)
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, bytes)
  }
}
