import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectRoot } from '../support/serverless.ts'

// The layering rules, checked from the imports of every source file.

interface SourceFile {
  /** Project-relative path, e.g. lib/download/engine.ts. */
  readonly path: string
  readonly text: string
  /** What it imports: project-relative paths for its own files, package names for the rest. */
  readonly imports: readonly string[]
}

function sourcesUnder(folder: string): SourceFile[] {
  return readdirSync(join(projectRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => {
      const path = join(folder, name)
      const text = readFileSync(join(projectRoot, path), 'utf8')
      const imports = [...text.matchAll(/^(?:import|export)[^'"]*?from '([^']+)'/gm)].map(([, target = '']) =>
        target.startsWith('.') ? relative(projectRoot, resolve(projectRoot, dirname(path), target)) : target,
      )
      return { path, text, imports }
    })
}

const lib = sourcesUnder('lib')
const CORE = ['lib/download/', 'lib/gallery/', 'lib/jobs/', 'lib/security/']
const EDGE = ['lib/adapters/', 'lib/lambda/', 'lib/config/', 'lib/wiring/']
const EDGE_PACKAGES = /^(@aws-sdk\/|@smithy\/|aws-lambda$|@middy\/|@aws-lambda-powertools\/|undici$)/

const inFolder = (path: string, folders: readonly string[]) => folders.some((folder) => path.startsWith(folder))

describe('Layering of lib/', () => {
  it('has a core (downloads, jobs, security) that imports no AWS SDK, Lambda, middy, Powertools or undici, and nothing from the edge', () => {
    const core = lib.filter((file) => inFolder(file.path, CORE))
    expect(core.length).toBeGreaterThan(5)
    const crossings = core.flatMap((file) =>
      file.imports.filter((target) => EDGE_PACKAGES.test(target) || inFolder(target, EDGE)).map((target) => `${file.path} → ${target}`),
    )
    expect(crossings).toEqual([])
  })

  it('has adapters that import neither config nor the Lambda glue', () => {
    const crossings = lib
      .filter((file) => file.path.startsWith('lib/adapters/'))
      .flatMap((file) => file.imports.filter((target) => inFolder(target, ['lib/config/', 'lib/lambda/', 'lib/wiring/'])).map((target) => `${file.path} → ${target}`))
    expect(crossings).toEqual([])
  })

  it('reads process.env only in lib/config/', () => {
    const readers = [...lib, ...sourcesUnder('handlers')].filter((file) => /process\.env\b/.test(file.text)).map((file) => file.path)
    expect(readers.every((path) => path.startsWith('lib/config/'))).toBe(true)
  })

  it('has no import cycles', () => {
    const files = new Map([...lib, ...sourcesUnder('handlers')].map((file) => [file.path, file]))
    const cycles: string[] = []
    const state = new Map<string, 'visiting' | 'done'>()
    const visit = (path: string, trail: string[]) => {
      if (state.get(path) === 'done') return
      if (state.get(path) === 'visiting') return void cycles.push([...trail.slice(trail.indexOf(path)), path].join(' → '))
      state.set(path, 'visiting')
      for (const target of files.get(path)?.imports ?? []) if (files.has(target)) visit(target, [...trail, path])
      state.set(path, 'done')
    }
    for (const path of files.keys()) visit(path, [])
    expect(cycles).toEqual([])
  })

  it('keeps handlers to glue of at most 30 lines', () => {
    const long = sourcesUnder('handlers').filter((file) => file.text.trimEnd().split('\n').length > 30).map((file) => file.path)
    expect(long).toEqual([])
  })
})

describe('Layering of the dev tooling', () => {
  it('keeps devkit/ free of tests, scripts and benchmarks, which all share it', () => {
    const crossings = sourcesUnder('devkit').flatMap((file) =>
      file.imports.filter((target) => inFolder(target, ['test/', 'scripts/', 'bench/'])).map((target) => `${file.path} → ${target}`),
    )
    expect(crossings).toEqual([])
  })

  it('derives the stack from serverless.yml alone, taking nothing from the app or the dev tooling', () => {
    const stack = sourcesUnder('stack')
    expect(stack.length).toBeGreaterThan(3)
    const crossings = stack.flatMap((file) =>
      file.imports.filter((target) => inFolder(target, ['lib/', 'handlers/', 'devkit/', 'test/', 'scripts/', 'bench/'])).map((target) => `${file.path} → ${target}`),
    )
    expect(crossings).toEqual([])
  })

  it('has scripts and benchmarks that take nothing from the tests', () => {
    const crossings = [...sourcesUnder('scripts'), ...sourcesUnder('bench')].flatMap((file) =>
      file.imports.filter((target) => target.startsWith('test/')).map((target) => `${file.path} → ${target}`),
    )
    expect(crossings).toEqual([])
  })
})
