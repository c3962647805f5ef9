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
