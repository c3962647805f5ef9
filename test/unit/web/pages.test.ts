import { describe, expect, it } from 'vitest'
import { GALLERY_CSS, JOB_SCRIPT } from '../../../lib/web/assets.ts'
import { decodePathSegment, galleryPage, helloPage, indexPage } from '../../../lib/web/pages.ts'

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

describe('Function: galleryPage', () => {
  const image = { code: '<b>x</b>', key: 'flags/<b>x</b>.jpg', bytes: 2048, contentType: 'image/png', storedAt: '2026-11-26T10:00:00.000Z', url: 'http://s3.test/a?X-Amz-Signature=1&x="y"' }

  it('escapes every value it shows, and carries the listing token in the next link', () => {
    const page = galleryPage({ prefix: 'flags/', images: [image], nextToken: 'a+b/c=' })
    expect(page).toContain('<span class="code">&lt;b&gt;x&lt;/b&gt;</span>')
    expect(page).toContain('alt="&lt;b&gt;x&lt;/b&gt;"')
    expect(page).toContain('src="http://s3.test/a?X-Amz-Signature=1&amp;x=&quot;y&quot;"')
    expect(page).toContain('<span>2.0 KiB</span><span>image/png</span>')
    expect(page).toContain('href="/gallery?prefix=flags%2F&amp;next=a%2Bb%2Fc%3D"')
    expect(page).not.toContain('<b>')
  })

  it('shows an empty prefix as an empty state, not an error', () => {
    expect(galleryPage({ prefix: 'flags/none/', images: [] })).toContain('<p class="empty">No images under <code>flags/none/</code> yet.')
  })
})

describe('The pages\' own style sheet and script', () => {
  it('stay a few KB: no framework', () => {
    expect(Buffer.byteLength(GALLERY_CSS)).toBeLessThan(2 * 1024)
    expect(Buffer.byteLength(JOB_SCRIPT)).toBeLessThan(4 * 1024)
  })
})
