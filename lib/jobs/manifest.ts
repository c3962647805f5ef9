import { ValidationError } from '../errors.ts'
import { codeProblem } from '../download/request.ts'

// Long enough to recognise a value, short enough that an error never echoes a whole manifest.
const MAX_ECHOED_CHARACTERS = 40

/**
 * The codes of a manifest: a JSON array of strings, or one code per line (blank lines and
 * surrounding spaces ignored). Throws ValidationError naming the line (or array item) of the
 * first bad code, or the count when there are more than `maxCodes`.
 */
export function parseManifest(text: string, maxCodes: number): string[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) return arrayManifest(trimmed, maxCodes)
  const codes: string[] = []
  const lines = text.split(/\r?\n/)
  for (const [index, line] of lines.entries()) {
    const code = line.trim()
    if (code === '') continue
    const problem = codeProblem(code)
    if (problem !== undefined) throw new ValidationError(`manifest line ${index + 1} ${echo(code)}: ${problem}`)
    codes.push(code)
    if (codes.length > maxCodes) throw tooMany(maxCodes)
  }
  if (codes.length === 0) throw new ValidationError('manifest: holds no codes')
  return codes
}

function arrayManifest(text: string, maxCodes: number): string[] {
  let items: unknown
  try {
    items = JSON.parse(text)
  } catch (error) {
    throw new ValidationError('manifest: starts with "[" but is not a JSON array', { cause: error })
  }
  if (!Array.isArray(items)) throw new ValidationError('manifest: starts with "[" but is not a JSON array')
  if (items.length > maxCodes) throw tooMany(maxCodes)
  if (items.length === 0) throw new ValidationError('manifest: holds no codes')
  for (const [index, item] of items.entries()) {
    const problem = codeProblem(item)
    if (problem !== undefined) throw new ValidationError(`manifest[${index}]${typeof item === 'string' ? ` ${echo(item)}` : ''}: ${problem}`)
  }
  return items as string[]
}

function tooMany(maxCodes: number): ValidationError {
  return new ValidationError(`manifest: must hold at most ${maxCodes} codes`)
}

function echo(code: string): string {
  return JSON.stringify(code.slice(0, MAX_ECHOED_CHARACTERS))
}
