import { vi } from 'vitest'

/** Every line written to stdout or stderr while `run` runs: what CloudWatch Logs would receive. */
export async function writtenLines(run: () => void | Promise<void>): Promise<string[]> {
  const written: string[] = []
  const record = (chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString())
    return true
  }
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(record), vi.spyOn(process.stderr, 'write').mockImplementation(record)]
  try {
    await run()
  } finally {
    for (const spy of spies) spy.mockRestore()
  }
  return written.join('').split('\n').filter((line) => line !== '')
}

/** The JSON lines among them: the structured logs and the EMF metrics. */
export async function loggedLines(run: () => void | Promise<void>): Promise<Record<string, unknown>[]> {
  return (await writtenLines(run)).filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
}
