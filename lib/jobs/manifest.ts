import { ValidationError } from '../errors.ts'
import { keyPrefixProblem } from '../download/keys.ts'
import { codeProblem } from '../download/request.ts'
import { ObjectAccessDenied, ObjectTooLarge } from './errors.ts'
import type { JobObjects } from './ports.ts'

// Long enough to recognise a value, short enough that an error never echoes a whole manifest.
const MAX_ECHOED_CHARACTERS = 40

/** What a manifest is held to: where it must be, its largest size, and the most codes it may hold. */
export interface ManifestRules {
  /** Where manifests must be in the bucket. */
  readonly manifestPrefix: string
  readonly maxManifestBytes: number
  readonly request: { readonly maxCodes: number }
}

/** The request with its manifest's codes in place of `manifest`; a request without one as it is. */
export async function requestWithManifestCodes(
  input: unknown,
  { rules, objects }: { readonly rules: ManifestRules; readonly objects: JobObjects },
): Promise<unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !('manifest' in input)) return input
  const { manifest, ...fields } = input as Record<string, unknown>
  if ('codes' in fields) throw new ValidationError('give either codes or manifest, not both')
  if (typeof manifest !== 'string') throw new ValidationError('manifest: must be the key of an object in the bucket')
  const problem = manifestKeyProblem(manifest, rules.manifestPrefix)
  if (problem !== undefined) throw new ValidationError(`manifest: ${problem}`)
  let text: string | undefined
  try {
    text = await objects.readText(manifest, rules.maxManifestBytes)
  } catch (error) {
    if (error instanceof ObjectTooLarge) throw new ValidationError(`manifest: must be at most ${rules.maxManifestBytes} bytes`, { cause: error })
    // On AWS a missing key is a 403 to a role S3 does not let list it: the caller's to fix either way.
    if (error instanceof ObjectAccessDenied) throw new ValidationError(`manifest: no object "${manifest}" in the bucket that the jobs function may read`, { cause: error })
    throw error
  }
  if (text === undefined) throw new ValidationError(`manifest: no object "${manifest}" in the bucket`)
  return { ...fields, codes: parseManifest(text, rules.request.maxCodes) }
}

/** Why a key cannot be a manifest's, or undefined when it can. */
export function manifestKeyProblem(key: string, root: string): string | undefined {
  if (!key.startsWith(root) || key.length === root.length) return `must be a key under "${root}"`
  return keyPrefixProblem(key)
}

/**
 * The codes of a manifest: a JSON array of strings, or one code per line (blank lines and
 * surrounding spaces ignored), repeats kept for the request to merge and count. Throws
 * ValidationError naming the line (or array item) of the first bad code, or the count when there
 * are more than `maxCodes` distinct codes (repeats, as the request merges them, count once).
 */
export function parseManifest(text: string, maxCodes: number): string[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) return arrayManifest(trimmed, maxCodes)
  const codes: string[] = []
  const distinct = distinctCounter(maxCodes)
  const lines = text.split(/\r?\n/)
  for (const [index, line] of lines.entries()) {
    const code = line.trim()
    if (code === '') continue
    const problem = codeProblem(code)
    if (problem !== undefined) throw new ValidationError(`manifest line ${index + 1} ${echo(code)}: ${problem}`)
    codes.push(code)
    distinct.add(code)
  }
  if (codes.length === 0) throw new ValidationError('manifest: holds no codes')
  return codes
}

/** Counts the distinct objects of the codes added (see distinctCodes), throwing once there are more than `maxCodes`. */
function distinctCounter(maxCodes: number): { add(code: string): void } {
  const objects = new Set<string>()
  return {
    add(code) {
      objects.add(code.toLowerCase())
      if (objects.size > maxCodes) throw tooMany(maxCodes)
    },
  }
}

function arrayManifest(text: string, maxCodes: number): string[] {
  let items: unknown
  try {
    items = JSON.parse(text)
  } catch (error) {
    throw new ValidationError('manifest: starts with "[" but is not a JSON array', { cause: error })
  }
  if (!Array.isArray(items)) throw new ValidationError('manifest: starts with "[" but is not a JSON array')
  if (items.length === 0) throw new ValidationError('manifest: holds no codes')
  const distinct = distinctCounter(maxCodes)
  for (const [index, item] of items.entries()) {
    const problem = codeProblem(item)
    if (problem !== undefined) throw new ValidationError(`manifest[${index}]${typeof item === 'string' ? ` ${echo(item)}` : ''}: ${problem}`)
    distinct.add(item as string)
  }
  return items as string[]
}

function tooMany(maxCodes: number): ValidationError {
  return new ValidationError(`manifest: must hold at most ${maxCodes} codes`)
}

function echo(code: string): string {
  return JSON.stringify(code.slice(0, MAX_ECHOED_CHARACTERS))
}
