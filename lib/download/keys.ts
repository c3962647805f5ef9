// Where a code lives: its object key and its URL both take the code lower-cased, so codes that
// differ only in case are one image.

/** The S3 key a code is stored under. */
export function objectKey(prefix: string, code: string): string {
  return `${prefix}${code.toLowerCase()}.jpg`
}

/** The URL a code is fetched from. */
export function imageUrl(baseUrl: string, code: string): string {
  return `${baseUrl}/${encodeURIComponent(code.toLowerCase())}.jpg`
}

/**
 * The codes with every repeat of an earlier one left out, in their first order. Codes that differ
 * only in case are repeats: they name one object, and fetching it twice would only race two
 * uploads of the same key.
 */
export function distinctCodes(codes: readonly string[]): { codes: string[]; duplicates: number } {
  const seen = new Set<string>()
  const distinct = codes.filter((code) => {
    const object = code.toLowerCase()
    if (seen.has(object)) return false
    seen.add(object)
    return true
  })
  return { codes: distinct, duplicates: codes.length - distinct.length }
}

const MAX_PREFIX_LENGTH = 256

/** Why a key prefix is unsafe (empty segments, "." or "..", odd characters), or undefined if it is fine. */
export function keyPrefixProblem(prefix: string): string | undefined {
  if (prefix.length > MAX_PREFIX_LENGTH) return `must be at most ${MAX_PREFIX_LENGTH} characters`
  if (prefix === '') return undefined
  const segments = prefix.endsWith('/') ? prefix.slice(0, -1).split('/') : prefix.split('/')
  const safe = segments.every((s) => /^[A-Za-z0-9._-]+$/.test(s) && s !== '.' && s !== '..')
  return safe ? undefined : 'must be path segments of letters, digits, ".", "_" and "-" separated by "/"'
}
