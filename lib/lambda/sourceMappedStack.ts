import { readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'

// A call site in a bundled handler: "/var/task/handlers/download.cjs:1:55217".
const BUNDLE_CALL_SITE = /(\/[^\s()]+\.cjs):(\d+):(\d+)/g
// Causes are mapped too, but a cycle of causes must not loop.
const MAX_CAUSES = 5

const maps = new Map<string, SourceMap | undefined>()

/** The map esbuild wrote beside a bundle, read once; undefined where there is none (unbundled sources). */
function mapOf(bundle: string): SourceMap | undefined {
  if (!maps.has(bundle)) {
    let map: SourceMap | undefined
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0])
    } catch {
      map = undefined
    }
    maps.set(bundle, map)
  }
  return maps.get(bundle)
}

function sourceCallSite(callSite: string, bundle: string, line: string, column: string): string {
  const origin = mapOf(bundle)?.findOrigin(Number(line), Number(column))
  if (origin === undefined || !('fileName' in origin)) return callSite
  // Sources are named relative to the build folder; from the project root they read as written.
  return `${origin.fileName.replace(/^(\.\.\/)+/, '')}:${origin.lineNumber}:${origin.columnNumber}`
}

/**
 * Rewrites the stack of an error (and of its causes) so that call sites in a bundled handler name
 * TypeScript source lines, e.g. `lib/download/engine.ts:142:11` for `download.cjs:1:55217`. The map is
 * parsed on the first error a container reports, never at cold start, unlike Node's
 * --enable-source-maps, which parses every map as its bundle loads. Returns the same error.
 */
export function sourceMappedStack<T>(error: T): T {
  let current: unknown = error
  for (let depth = 0; current instanceof Error && depth <= MAX_CAUSES; depth += 1) {
    if (current.stack !== undefined) current.stack = current.stack.replace(BUNDLE_CALL_SITE, sourceCallSite)
    current = current.cause
  }
  return error
}
