import { describe, expect, it } from 'vitest'
import { ConfigError, folderPrefix, keyPrefix } from '../../../lib/config/env.ts'

describe('Function: keyPrefix', () => {
  it('takes path segments, with or without a closing "/", or nothing at all, and falls back when unset', () => {
    expect(keyPrefix({ P: 'img' }, 'P', 'flags/')).toBe('img')
    expect(keyPrefix({ P: 'a/b/' }, 'P', 'flags/')).toBe('a/b/')
    expect(keyPrefix({ P: '' }, 'P', 'flags/')).toBe('')
    expect(keyPrefix({}, 'P', 'flags/')).toBe('flags/')
  })

  it('refuses what is not path segments, naming the variable and what it got', () => {
    expect(() => keyPrefix({ P: '../' }, 'P', 'flags/')).toThrow(ConfigError)
    expect(() => keyPrefix({ P: 'a//b/' }, 'P', 'flags/')).toThrow(/^P must be path segments .*, got "a\/\/b\/"$/)
  })
})

describe('Function: folderPrefix', () => {
  it('takes a folder, and falls back when unset', () => {
    expect(folderPrefix({ P: 'out/reports/' }, 'P', 'reports/')).toBe('out/reports/')
    expect(folderPrefix({}, 'P', 'reports/')).toBe('reports/')
  })

  it.each(['', 'reports'])('refuses %j, which is no folder, saying what needs one when told', (raw) => {
    expect(() => folderPrefix({ P: raw }, 'P', 'reports/')).toThrow(new ConfigError('P', `must be a folder, ending in "/", got "${raw}"`))
    expect(() => folderPrefix({ P: raw }, 'P', 'flags/', 'to serve the gallery')).toThrow(new ConfigError('P', `must be a folder, ending in "/", to serve the gallery, got "${raw}"`))
  })

  it('refuses a folder that is not path segments', () => {
    expect(() => folderPrefix({ P: 'a/../' }, 'P', 'reports/')).toThrow(/^P must be path segments/)
  })
})
