import * as z from 'zod/mini'
import type { $ZodIssue } from 'zod/v4/core'
import { ValidationError } from '../errors.ts'
import { urlProblem, type OriginPolicy } from '../security/originPolicy.ts'
import { distinctCodes, keyPrefixProblem } from './keys.ts'

export const DEFAULT_MAX_CODES = 1000
export const MAX_CONCURRENCY = 128
/** The longest code: it becomes a key and a URL path segment. */
export const MAX_CODE_LENGTH = 128
const MAX_URL_LENGTH = 2048

/** A validated download request: what to fetch, from where, how many at once, and under which key prefix. */
export interface DownloadPlan {
  /** Distinct codes: no two name the same object. */
  readonly codes: readonly string[]
  /** Codes of the request merged into an earlier one that names the same object. */
  readonly duplicates: number
  readonly baseUrl: string
  readonly concurrency: number
  readonly prefix: string
  /** Fetch every image whole, even when the stored copy is still current at the origin. */
  readonly force: boolean
}

/** What a request falls back to for every field it leaves out, and the limits it must respect. */
export interface RequestRules {
  readonly codes: readonly string[]
  readonly baseUrl: string
  readonly concurrency: number
  /** The key prefix: a request's default, and the root every requested prefix must lie inside. */
  readonly keyPrefix: string
  /** The most codes one request may ask for. */
  readonly maxCodes: number
  readonly originPolicy: OriginPolicy
}

/** The original flags downloader's codes, kept as the default. */
export const DEFAULT_CODES: readonly string[] = Object.freeze([
  'pms_1508850965.67096774',
  'pms_1509723338.05097112',
  'pms_1508125822.19716710',
  'pms_1512614327.2483640',
  'pms_1525853341.8312102',
  'pms_1511228654.33099308',
  'error',
])

// Codes become S3 keys and URL path segments, so only characters that are safe in both pass.
const codeSchema = z.string({ error: 'must be a string' }).check(
  z.minLength(1, { error: 'must not be empty' }),
  z.maxLength(MAX_CODE_LENGTH, { error: `must be at most ${MAX_CODE_LENGTH} characters` }),
  z.regex(/^[A-Za-z0-9._-]*$/, { error: 'may only contain letters, digits, ".", "_" and "-"' }),
  z.refine((code) => code !== '.' && code !== '..', { error: 'must not be "." or ".."' }),
)

/** Why a code cannot be fetched and stored (characters, length), or undefined if it can. */
export function codeProblem(code: unknown): string | undefined {
  const parsed = codeSchema.safeParse(code)
  return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? 'is not a valid code')
}

const concurrencyRange = { error: `must be an integer from 1 to ${MAX_CONCURRENCY}` }

const requestSchema = z.strictObject(
  {
    codes: z.optional(
      // The most codes is counted once repeats are merged (below): a repeat costs no download.
      z.array(codeSchema, { error: 'must be an array of strings' }).check(z.minLength(1, { error: 'must not be empty' })),
    ),
    baseUrl: z.optional(
      z
        .string({ error: 'must be a string' })
        .check(z.maxLength(MAX_URL_LENGTH, { error: `must be at most ${MAX_URL_LENGTH} characters` })),
    ),
    concurrency: z.optional(
      z.int(concurrencyRange).check(z.minimum(1, concurrencyRange), z.maximum(MAX_CONCURRENCY, concurrencyRange)),
    ),
    prefix: z.optional(z.string({ error: 'must be a string' })),
    force: z.optional(z.boolean({ error: 'must be true or false' })),
  },
  { error: 'request must be a JSON object' },
)

/**
 * Validates a download request (HTTP body, schedule input or direct-invoke event) and fills in
 * the defaults. Throws ValidationError naming the offending field.
 */
export function parseDownloadRequest(input: unknown, rules: RequestRules): DownloadPlan {
  const parsed = requestSchema.safeParse(input ?? {})
  if (!parsed.success) throw new ValidationError(describeIssue(parsed.error.issues[0], input))
  const request = parsed.data

  const baseUrl = request.baseUrl === undefined ? rules.baseUrl : request.baseUrl.replace(/\/+$/, '')
  const problem = baseUrlProblem(baseUrl, rules.originPolicy)
  if (problem !== undefined) throw new ValidationError(`baseUrl: ${problem}`)

  const prefix = request.prefix ?? rules.keyPrefix
  const prefixProblem = keyPrefixProblem(prefix) ?? outsideRootProblem(prefix, rules.keyPrefix)
  if (prefixProblem !== undefined) throw new ValidationError(`prefix: ${prefixProblem}`)

  const { codes, duplicates } = distinctCodes(request.codes ?? rules.codes)
  if (codes.length > rules.maxCodes) throw new ValidationError(`codes: must hold at most ${rules.maxCodes} codes`)
  return {
    codes,
    duplicates,
    baseUrl,
    concurrency: request.concurrency ?? rules.concurrency,
    prefix,
    force: request.force ?? false,
  }
}

function outsideRootProblem(prefix: string, root: string): string | undefined {
  return prefix.startsWith(root) ? undefined : `must start with "${root}"`
}

function baseUrlProblem(baseUrl: string, policy: OriginPolicy): string | undefined {
  const url = URL.parse(baseUrl)
  if (url === null) return 'must be an absolute URL'
  // An empty query or fragment ("…/a1?" or "…/a1#") parses as none, yet would swallow the code's path.
  if (url.search !== '' || url.hash !== '' || /[?#]/.test(baseUrl)) return 'must not contain a query or fragment'
  return urlProblem(url, policy)
}

// Long enough to recognise a value, short enough that an error never echoes a whole payload.
const MAX_ECHOED_CHARACTERS = 40

function describeIssue(issue: $ZodIssue | undefined, input: unknown): string {
  if (issue === undefined) return 'request is invalid'
  if (issue.code === 'unrecognized_keys') return `unknown field ${JSON.stringify(issue.keys.join(', ').slice(0, MAX_ECHOED_CHARACTERS))}`
  if (issue.path.length === 0) return issue.message
  const field = issue.path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('')
  // A bad code is named in the message, so a caller can find it in a long request.
  const [field0, index] = issue.path
  const code = field0 === 'codes' && typeof index === 'number' ? (input as { codes: unknown[] }).codes[index] : undefined
  const named = typeof code === 'string' ? ` ${JSON.stringify(code.slice(0, MAX_ECHOED_CHARACTERS))}` : ''
  return `${field}${named}: ${issue.message}`
}
