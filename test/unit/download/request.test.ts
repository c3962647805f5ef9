import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import { keyPrefixProblem } from '../../../lib/download/keys.ts'
import { DEFAULT_CODES, DEFAULT_MAX_CODES, parseDownloadRequest, type RequestRules } from '../../../lib/download/request.ts'

const rules: RequestRules = {
  codes: DEFAULT_CODES,
  baseUrl: 'https://images.example.com/a1',
  concurrency: 3,
  keyPrefix: 'flags/',
  maxCodes: DEFAULT_MAX_CODES,
  originPolicy: { allowedHosts: ['images.example.com', 'cdn.example.org', 'example.com'], localOrigins: false },
}

function rejection(input: unknown, overrides: Partial<RequestRules> = {}): ValidationError {
  try {
    parseDownloadRequest(input, { ...rules, ...overrides })
  } catch (error) {
    if (error instanceof ValidationError) return error
    throw error
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

describe('Function: parseDownloadRequest', () => {
  it('fills every field from the defaults for an empty request', () => {
    expect(parseDownloadRequest({}, rules)).toEqual({
      codes: DEFAULT_CODES,
      baseUrl: rules.baseUrl,
      concurrency: 3,
      prefix: 'flags/',
      force: false,
      duplicates: 0,
    })
    expect(parseDownloadRequest(undefined, rules).codes).toEqual(DEFAULT_CODES)
  })

  it('keeps the fields a request gives and trims trailing slashes from the base URL', () => {
    const plan = parseDownloadRequest(
      { codes: ['A', 'b'], baseUrl: 'https://cdn.example.org/img//', concurrency: 8, prefix: 'flags/2026/', force: true },
      rules,
    )
    expect(plan).toEqual({
      codes: ['A', 'b'],
      duplicates: 0,
      baseUrl: 'https://cdn.example.org/img',
      concurrency: 8,
      prefix: 'flags/2026/',
      force: true,
    })
  })

  it('merges codes that name the same object, keeping the first spelling, and counts the merged ones', () => {
    const plan = parseDownloadRequest({ codes: ['dup', 'DUP', 'b', 'dup', 'Dup', 'B', 'c'] }, rules)
    expect(plan.codes).toEqual(['dup', 'b', 'c'])
    expect(plan.duplicates).toBe(4)
  })

  it('keeps the original batch of seven codes as the default', () => {
    expect(DEFAULT_CODES).toHaveLength(7)
    expect(DEFAULT_CODES).toContain('error')
  })

  it.each([
    ['a string', 'codes', /request must be a JSON object/],
    ['an array', [], /request must be a JSON object/],
    ['codes of the wrong type', { codes: 'abc' }, /^codes: must be an array of strings/],
    ['a non-string code', { codes: ['a', 7] }, /^codes\[1\]: must be a string/],
    ['a code with a path', { codes: ['ok', 'a/b'] }, /^codes\[1\] "a\/b": may only contain/],
    ['a unicode code', { codes: ['drapeau-é'] }, /^codes\[0\] "drapeau-é": may only contain/],
    ['a code with a NUL', { codes: ['a\u0000b'] }, /^codes\[0\] "a\\u0000b": may only contain/],
    ['a code with a space', { codes: ['a b'] }, /^codes\[0\] "a b": may only contain/],
    ['an empty codes list', { codes: [] }, /^codes: must not be empty/],
    ['an over-long codes list', { codes: Array.from({ length: DEFAULT_MAX_CODES + 1 }, (_, i) => `c${i}`) }, /^codes: must hold at most/],
    ['an empty code', { codes: [''] }, /^codes\[0\] "": must not be empty/],
    ['a code with a slash', { codes: ['../x'] }, /^codes\[0\] "\.\.\/x": may only contain/],
    ['a code of dots', { codes: ['..'] }, /^codes\[0\] "\.\.": must not be "\." or "\.\."/],
    ['a 129-character code', { codes: ['x'.repeat(129)] }, /^codes\[0\] "x{40}": must be at most 128/],
    ['a fractional concurrency', { concurrency: 2.5 }, /^concurrency: must be an integer from 1 to 128/],
    ['a concurrency of 0', { concurrency: 0 }, /^concurrency: must be an integer from 1 to 128/],
    ['a concurrency of 129', { concurrency: 129 }, /^concurrency: must be an integer from 1 to 128/],
    ['a string concurrency', { concurrency: '3' }, /^concurrency: must be an integer/],
    ['a numeric base URL', { baseUrl: 5 }, /^baseUrl: must be a string/],
    ['a string force', { force: 'yes' }, /^force: must be true or false/],
    ['a relative base URL', { baseUrl: 'images/a1' }, /^baseUrl: must be an absolute URL/],
    ['a file: base URL', { baseUrl: 'file:///etc' }, /^baseUrl: must use https/],
    ['an ftp: base URL', { baseUrl: 'ftp://example.com/a1' }, /^baseUrl: must use https/],
    ['a plain http base URL', { baseUrl: 'http://example.com/a1' }, /^baseUrl: must use https/],
    ['a host not on the allowlist', { baseUrl: 'https://evil.example.net/a1' }, /^baseUrl: host "evil.example.net" is not in ALLOWED_HOSTS/],
    ['credentials in the base URL', { baseUrl: 'https://u:p@example.com' }, /^baseUrl: must not contain credentials/],
    ['a query in the base URL', { baseUrl: 'https://example.com/a?x=1' }, /^baseUrl: must not contain a query/],
    ['a prefix outside the configured one', { prefix: 'cats/' }, /^prefix: must start with "flags\/"/],
    ['a prefix with ".."', { prefix: 'flags/../x/' }, /^prefix: must be path segments/],
    ['an unknown field', { code: ['a'] }, /^unknown field "code"/],
  ])('rejects %s with a message naming the field', (_, input, message) => {
    const error = rejection(input)
    expect(error.statusCode).toBe(400)
    expect(error.message).toMatch(message)
  })

  it('caps the batch at the configured size', () => {
    expect(rejection({ codes: ['a', 'b', 'c'] }, { maxCodes: 2 }).message).toBe('codes: must hold at most 2 codes')
    expect(parseDownloadRequest({ codes: ['a', 'b'] }, { ...rules, maxCodes: 2 }).codes).toEqual(['a', 'b'])
  })

  it('counts the codes against the cap once repeats are merged', () => {
    const plan = parseDownloadRequest({ codes: ['a', 'b', 'A', 'a', 'b'] }, { ...rules, maxCodes: 2 })
    expect(plan).toMatchObject({ codes: ['a', 'b'], duplicates: 3 })
    expect(rejection({ codes: ['a', 'b', 'a', 'c'] }, { maxCodes: 2 }).message).toBe('codes: must hold at most 2 codes')
  })

  it('accepts plain http and loopback only for local origins', () => {
    const local = { allowedHosts: ['127.0.0.1'], localOrigins: true }
    expect(parseDownloadRequest({ baseUrl: 'http://127.0.0.1:8701' }, { ...rules, originPolicy: local }).baseUrl).toBe(
      'http://127.0.0.1:8701',
    )
    const deployed = { allowedHosts: ['127.0.0.1'], localOrigins: false }
    expect(rejection({ baseUrl: 'https://127.0.0.1:8701' }, { originPolicy: deployed }).message).toBe(
      'baseUrl: 127.0.0.1 is a loopback address, not a public one',
    )
  })
})

describe('Function: keyPrefixProblem', () => {
  it.each(['', 'flags/', 'flags/2026/', 'a.b_c-d/e'])('accepts %j', (prefix) => {
    expect(keyPrefixProblem(prefix)).toBeUndefined()
  })

  it.each(['/flags/', 'flags//x/', './', 'flags/../', 'fl ags/', 'x'.repeat(257)])('refuses %j', (prefix) => {
    expect(keyPrefixProblem(prefix)).toBeTypeOf('string')
  })
})
