import { describe, expect, it } from 'vitest'
import { ValidationError } from '../../../lib/errors.ts'
import { galleryView } from '../../../lib/gallery/gallery.ts'
import type { ImageShelf } from '../../../lib/gallery/ports.ts'

/** A shelf of three images under flags/, two to a page. */
const shelf: ImageShelf = {
  async list(prefix, token, max) {
    const all = ['flags/a.jpg', 'flags/b.jpg', 'flags/sub/c.jpg'].filter((key) => key.startsWith(prefix))
    const start = token === undefined ? 0 : Number(token)
    const images = all.slice(start, start + max).map((key) => ({ key, bytes: 10, storedAt: '2026-11-26T10:00:00.000Z' }))
    return start + max < all.length ? { images, nextToken: String(start + max) } : { images }
  },
  contentTypeOf: async (key) => (key.includes('b') ? 'image/png' : 'image/jpeg'),
  viewUrl: async (key) => `https://s3.test/${key}?signed`,
}
const rules = { keyPrefix: 'flags/', pageSize: 2 }

describe('Function: galleryView', () => {
  it('pages through the images under the root, each with its code, type and view URL', async () => {
    const first = await galleryView({}, shelf, rules)
    const second = await galleryView({ next: first.nextToken }, shelf, rules)
    expect(first.images.map((image) => [image.code, image.contentType, image.url])).toEqual([
      ['a', 'image/jpeg', 'https://s3.test/flags/a.jpg?signed'],
      ['b', 'image/png', 'https://s3.test/flags/b.jpg?signed'],
    ])
    expect(second).toEqual({ prefix: 'flags/', images: [expect.objectContaining({ code: 'sub/c' })] })
  })

  it('refuses a prefix outside the root, or one that is not a safe key prefix', async () => {
    await expect(galleryView({ prefix: 'reports/' }, shelf, rules)).rejects.toThrow(new ValidationError('prefix: must start with "flags/"'))
    await expect(galleryView({ prefix: 'flags/../reports/' }, shelf, rules)).rejects.toThrow(ValidationError)
  })
})
