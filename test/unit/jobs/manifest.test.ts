import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import { parseDownloadRequest, type RequestRules } from '../../../lib/download/request.ts'
import { parseManifest, requestWithManifestCodes } from '../../../lib/jobs/manifest.ts'
import { memoryJobObjects } from '../../../devkit/memoryJobPorts.ts'
import type { JobObjects } from '../../../lib/jobs/ports.ts'

describe('Function: parseManifest', () => {
  it('reads one code per line, skipping blank lines and surrounding spaces', () => {
    expect(parseManifest('cn\r\n\n  fr  \nde\n', 10)).toEqual(['cn', 'fr', 'de'])
  })

  it('reads a JSON array of codes', () => {
    expect(parseManifest(' ["cn", "fr"] ', 10)).toEqual(['cn', 'fr'])
  })

  it('names the line of the first bad code', () => {
    expect(() => parseManifest('cn\nfr\n\nde/../x\n', 10)).toThrow(new ValidationError('manifest line 4 "de/../x": may only contain letters, digits, ".", "_" and "-"'))
  })

  it('names the item of the first bad code in an array', () => {
    expect(() => parseManifest('["cn", 7]', 10)).toThrow(new ValidationError('manifest[1]: must be a string'))
  })

  it('counts repeats once against the most codes a job may hold, and keeps them for the request to merge', () => {
    expect(parseManifest('a\nb\nA\n\nb\na\n', 2)).toEqual(['a', 'b', 'A', 'b', 'a'])
    expect(parseManifest('["a","b","a","B"]', 2)).toEqual(['a', 'b', 'a', 'B'])
    expect(() => parseManifest('a\nb\na\nc\n', 2)).toThrow(new ValidationError('manifest: must hold at most 2 codes'))
    expect(() => parseManifest('["a","a","b","c"]', 2)).toThrow(new ValidationError('manifest: must hold at most 2 codes'))
  })

  it('refuses more codes than a job may hold, an empty manifest, and a broken array', () => {
    expect(() => parseManifest('a\nb\nc\n', 2)).toThrow(new ValidationError('manifest: must hold at most 2 codes'))
    expect(() => parseManifest('["a","b","c"]', 2)).toThrow(new ValidationError('manifest: must hold at most 2 codes'))
    expect(() => parseManifest('\n \n', 2)).toThrow(new ValidationError('manifest: holds no codes'))
    expect(() => parseManifest('["a",', 2)).toThrow(/^manifest: starts with "\[" but is not a JSON array$/)
  })
})

describe('Function: requestWithManifestCodes', () => {
  const request: RequestRules = {
    codes: ['x'],
    baseUrl: 'https://images.example.com/a1',
    concurrency: 3,
    keyPrefix: 'flags/',
    maxCodes: 3,
    originPolicy: { allowedHosts: ['images.example.com'], localOrigins: false },
  }
  const objects = (text: string): JobObjects => memoryJobObjects({ 'manifests/daily.txt': text })

  it('lets through a manifest of more lines than a job may hold codes when its repeats bring it within, and counts them', async () => {
    const input = await requestWithManifestCodes({ manifest: 'manifests/daily.txt' }, { rules: { manifestPrefix: 'manifests/', maxManifestBytes: 1024, request }, objects: objects('a\nb\nA\nc\nb\n') })
    expect(parseDownloadRequest(input, request)).toMatchObject({ codes: ['a', 'b', 'c'], duplicates: 2 })
  })
})
