import { readFile } from 'node:fs/promises'

/** One of the shared events in events/, the same files `serverless invoke local --path` takes. */
export async function sharedEvent<T>(name: string): Promise<T> {
  return JSON.parse(await readFile(new URL(`../../events/${name}.json`, import.meta.url), 'utf8')) as T
}
