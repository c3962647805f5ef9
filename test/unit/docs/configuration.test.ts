import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The docs checked against the tree, so that a variable, param or link never drifts from what
// the code reads: docs/configuration.md's tables, and the README's size and links.

const root = fileURLToPath(new URL('../../..', import.meta.url))
const read = (path: string) => readFileSync(join(root, path), 'utf8')

const README_MAX_BYTES = 12 * 1024
const CONSTANT_NAME = String.raw`[A-Z][A-Z0-9_]*`

function tsFilesUnder(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(folder, name))
}

// An environment as the sources name it: `env`, `process.env`, `environment`…
const ENV = String.raw`(?:process\.env|\w*[eE]nv\w*)`

/** The names a source reads from an environment: `helper(env, 'NAME', …)`, `env['NAME']`, `process.env.NAME`. */
function variablesReadIn(text: string): Set<string> {
  const patterns = [
    new RegExp(String.raw`\b\w+\(\s*${ENV}\s*,\s*['"](${CONSTANT_NAME})['"]`, 'g'),
    new RegExp(String.raw`\b${ENV}\[\s*['"](${CONSTANT_NAME})['"]\s*\]`, 'g'),
    new RegExp(String.raw`\bprocess\.env\.(${CONSTANT_NAME})\b`, 'g'),
  ]
  return new Set(patterns.flatMap((pattern) => [...text.matchAll(pattern)].map(([, name = '']) => name)))
}

/** The variables serverless.yml reads with `${env:NAME, …}`. */
function variablesReadByTemplate(text: string): Set<string> {
  return new Set([...text.matchAll(new RegExp(String.raw`\$\{env:(${CONSTANT_NAME})`, 'g'))].map(([, name = '']) => name))
}

interface Table {
  /** The header's cells, lower-cased. */
  readonly header: readonly string[]
  readonly rows: readonly (readonly string[])[]
}

const cellsOf = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((cell) => cell.trim())

/** Every pipe table of a markdown text: a header row, a `| --- |` row, then its rows. */
function tablesOf(markdown: string): Table[] {
  const lines = markdown.split('\n')
  const tables: Table[] = []
  for (let index = 0; index + 1 < lines.length; index++) {
    const line = lines[index] ?? ''
    if (!line.trimStart().startsWith('|') || !/^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(lines[index + 1] ?? '')) continue
    const rows: string[][] = []
    let next = index + 2
    while (next < lines.length && (lines[next] ?? '').trimStart().startsWith('|')) rows.push(cellsOf(lines[next++] ?? ''))
    tables.push({ header: cellsOf(line).map((cell) => cell.toLowerCase()), rows })
    index = next - 1
  }
  return tables
}

const namesIn = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map(([, name = '']) => name)

/** The names in the first column of every table whose first header cell is `kind`. */
function documented(tables: readonly Table[], kind: string): string[] {
  return tables.filter((table) => table.header[0] === kind).flatMap((table) => table.rows.flatMap((row) => namesIn(row[0] ?? '')))
}

/** The `params:` block of serverless.yml: each stage's keys, read off the indentation. */
function paramsByStage(yaml: string): Map<string, string[]> {
  const stages = new Map<string, string[]>()
  const lines = yaml.split('\n')
  const start = lines.findIndex((line) => /^params:\s*$/.test(line))
  if (start === -1) return stages
  let stage: string[] | undefined
  for (const line of lines.slice(start + 1)) {
    if (/^\s*(#.*)?$/.test(line)) continue
    if (!line.startsWith(' ')) break
    const stageLine = /^ {2}([A-Za-z][\w-]*):/.exec(line)
    const paramLine = /^ {4}([A-Za-z]\w*):/.exec(line)
    if (stageLine !== null) {
      stage = []
      stages.set(stageLine[1] ?? '', stage)
    } else if (paramLine !== null) {
      stage?.push(paramLine[1] ?? '')
    }
  }
  return stages
}

const configuration = read('docs/configuration.md')
const tables = tablesOf(configuration)
const params = paramsByStage(read('serverless.yml'))
const defaultParams = params.get('default') ?? []
const paramRows = tables.filter((table) => table.header[0] === 'param').flatMap((table) => table.rows)
const deprecated = tables
  .filter((table) => table.header[0] === 'deprecated param')
  .flatMap((table) => table.rows.map((row) => ({ old: namesIn(row[0] ?? ''), current: namesIn(row[1] ?? '') })))

const missingFrom = (names: Iterable<string>, documentedNames: Iterable<string>) => {
  const known = new Set(documentedNames)
  return [...new Set(names)].filter((name) => !known.has(name)).sort()
}

describe('docs/configuration.md', () => {
  const configSources = tsFilesUnder('lib/config')
  const readByFunctions = new Set(configSources.flatMap((path) => [...variablesReadIn(read(path))]))
  const allDocumented = tables.flatMap((table) => table.rows.flatMap((row) => namesIn(row[0] ?? '')))

  it('documents every environment variable lib/config reads', () => {
    expect(configSources.length).toBeGreaterThan(0)
    expect(readByFunctions).toContain('BUCKET_NAME')
    expect(missingFrom(readByFunctions, allDocumented)).toEqual([])
  })

  it('documents as a function variable only what lib/config reads', () => {
    const functionVariables = documented(tables, 'variable')
    expect(functionVariables.length).toBeGreaterThan(30)
    expect(missingFrom(functionVariables, readByFunctions)).toEqual([])
  })

  it('documents every variable the local tools read, and only those', () => {
    const toolSources = ['scripts', 'devkit', 'bench'].flatMap(tsFilesUnder)
    const readByTools = new Set([
      ...toolSources.flatMap((path) => [...variablesReadIn(read(path))]),
      ...variablesReadByTemplate(read('serverless.yml')),
    ])
    const localVariables = documented(tables, 'local variable')
    // The tools also read function variables (the benchmarks run the handlers): those are documented above.
    expect(missingFrom(readByTools, allDocumented)).toEqual([])
    expect(missingFrom(localVariables, readByTools)).toEqual([])
  })

  it('documents every param of params.default', () => {
    expect(defaultParams).toContain('keyPrefix')
    const documentedParams = [...paramRows.flatMap((row) => namesIn(row[0] ?? '')), ...deprecated.flatMap(({ old }) => old)]
    expect(missingFrom(defaultParams, documentedParams)).toEqual([])
  })

  it('documents only params that exist, in params.default or as a deprecated name and its replacement', () => {
    const renamed = deprecated.flatMap(({ old, current }) => [...old, ...current])
    expect(missingFrom(paramRows.flatMap((row) => namesIn(row[0] ?? '')), [...defaultParams, ...renamed])).toEqual([])
    // A renamed param keeps one of its two names in the template.
    const lost = deprecated.filter(({ old, current }) => ![...old, ...current].some((name) => defaultParams.includes(name)))
    expect(lost).toEqual([])
  })

  it('names, for each param, the stages that override it', () => {
    const stages = [...params.keys()].filter((stage) => stage !== 'default')
    expect(stages).toContain('local')
    const claimed = paramRows.flatMap((row) =>
      namesIn(row[0] ?? '').flatMap((param) => stages.filter((stage) => new RegExp(String.raw`\b${stage}:`).test(row[2] ?? '')).map((stage) => `${stage}: ${param}`)),
    )
    const overrides = stages.flatMap((stage) => (params.get(stage) ?? []).map((param) => `${stage}: ${param}`))
    expect(claimed.sort()).toEqual(overrides.sort())
  })
})

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')

const anchorsIn = (markdown: string) => new Set([...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map(([, heading = '']) => anchorOf(heading)))

/** The relative links of a markdown file that lead nowhere: a missing file or heading. */
function brokenLinks(path: string): string[] {
  const text = read(path)
  const links = [...text.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target = '']) => target).filter((target) => !/^[a-z]+:/i.test(target))
  return links.filter((target) => {
    const [file = '', anchor] = target.split('#')
    const targetPath = file === '' ? path : relative(root, resolve(root, dirname(path), file))
    if (!existsSync(join(root, targetPath))) return true
    if (anchor === undefined || statSync(join(root, targetPath)).isDirectory()) return false
    return !anchorsIn(read(targetPath)).has(anchor)
  })
}

describe('README.md', () => {
  it(`is at most ${README_MAX_BYTES} bytes`, () => {
    expect(statSync(join(root, 'README.md')).size).toBeLessThanOrEqual(README_MAX_BYTES)
  })

  it('links only to docs/ files that exist, and to headings they have', () => {
    const links = [...read('README.md').matchAll(/\]\(([^)\s]+)\)/g)].map(([, target = '']) => target)
    const local = links.filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    expect(local.length).toBeGreaterThan(3)
    expect(local.filter((target) => !target.startsWith('docs/'))).toEqual([])
    expect(brokenLinks('README.md')).toEqual([])
  })

  it('has docs whose links between them lead somewhere', () => {
    const docs = readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md'))
    expect(docs.flatMap((name) => brokenLinks(join('docs', name)).map((target) => `docs/${name} → ${target}`))).toEqual([])
  })
})
