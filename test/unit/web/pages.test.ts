import { describe, expect, it } from 'vitest'
import { decodePathSegment, helloPage, indexPage } from '../../../lib/web/pages.ts'

describe('Function: helloPage', () => {
  it('greets a plain name', () => {
    expect(helloPage('world')).toBe('<h1>hello, world!</h1>')
  })

  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"quoted" & \'single\'', '&quot;quoted&quot; &amp; &#39;single&#39;'],
    ['<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
  ])('escapes every HTML metacharacter in %j', (name, escaped) => {
    const page = helloPage(name)
    expect(page).toBe(`<h1>hello, ${escaped}!</h1>`)
    expect(page.match(/</g)).toHaveLength(2)
  })
})

describe('Function: indexPage', () => {
  it('is the index heading', () => {
    expect(indexPage()).toBe('<h1>Index</h1>')
  })
})

describe('Function: decodePathSegment', () => {
  it('decodes percent-encoding once', () => {
    expect(decodePathSegment('%3Cb%3E%20x')).toBe('<b> x')
    expect(decodePathSegment('%2541')).toBe('%41')
  })

  it('keeps a segment that is not valid percent-encoding as it is', () => {
    expect(decodePathSegment('100%')).toBe('100%')
  })
})
