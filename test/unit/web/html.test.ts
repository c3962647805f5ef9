import { describe, expect, it } from 'vitest'
import { html, render } from '../../../lib/web/html.ts'

describe('Function: html', () => {
  it('escapes every interpolated value', () => {
    const name = `<b onclick='x'>"A" & B</b>`
    expect(render(html`<p title="${name}">${name}</p>`)).toBe(
      '<p title="&lt;b onclick=&#39;x&#39;&gt;&quot;A&quot; &amp; B&lt;/b&gt;">&lt;b onclick=&#39;x&#39;&gt;&quot;A&quot; &amp; B&lt;/b&gt;</p>',
    )
  })

  it('nests markup written by the tag as it is, and escapes the values inside it once', () => {
    const item = (text: string) => html`<li>${text}</li>`
    expect(render(html`<ul>${['a<', 'b&'].map(item)}</ul>`)).toBe('<ul><li>a&lt;</li><li>b&amp;</li></ul>')
  })

  it('takes a string that only looks like markup as text', () => {
    expect(render(html`${'<h1>x</h1>'}`)).toBe('&lt;h1&gt;x&lt;/h1&gt;')
  })
})
