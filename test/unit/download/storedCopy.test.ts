import pLimit from 'p-limit'
import { describe, expect, it } from 'vitest'
import type { ObjectSink, OriginValidators } from '../../../lib/download/ports.ts'
import type { DownloadPlan } from '../../../lib/download/request.ts'
import { listedKeysWithoutObject, storedValidators } from '../../../lib/download/storedCopy.ts'

const plan: DownloadPlan = { codes: ['A', 'b'], baseUrl: 'https://origin.test/a1', concurrency: 2, prefix: 'flags/', force: false, duplicates: 0 }
const running = new AbortController().signal

/** A sink holding objects' validators by key, that counts its look-ups; `listing` answers keysWithoutObject when given. */
function lookupSink(stored: Record<string, OriginValidators>, listing?: (keys: readonly string[]) => Promise<ReadonlySet<string>>) {
  const lookedUp: string[] = []
  const sink: ObjectSink = {
    async validatorsOf(key) {
      lookedUp.push(key)
      return stored[key]
    },
    put: async () => undefined,
    ...(listing === undefined ? {} : { keysWithoutObject: listing }),
  }
  return { sink, lookedUp }
}

describe('Function: listedKeysWithoutObject', () => {
  it("asks the sink's listing about the plan's keys", async () => {
    const asked: string[][] = []
    const { sink } = lookupSink({}, async (keys) => {
      asked.push([...keys])
      return new Set(['flags/b.jpg'])
    })
    expect(await listedKeysWithoutObject(plan, sink, running)).toEqual(new Set(['flags/b.jpg']))
    expect(asked).toEqual([['flags/a.jpg', 'flags/b.jpg']])
  })

  it('knows of no key without an object when the sink cannot list, or its listing fails', async () => {
    expect(await listedKeysWithoutObject(plan, lookupSink({}).sink, running)).toEqual(new Set())
    const refused = lookupSink({}, () => Promise.reject(new Error('AccessDenied')))
    expect(await listedKeysWithoutObject(plan, refused.sink, running)).toEqual(new Set())
  })
})

describe('Function: storedValidators', () => {
  it('looks up a key the listing did not show, and returns the validators it was saved with', async () => {
    const { sink, lookedUp } = lookupSink({ 'flags/a.jpg': { etag: '"v1"' } })
    expect(await storedValidators('flags/a.jpg', Promise.resolve(new Set()), pLimit(1), sink, running)).toEqual({ etag: '"v1"' })
    expect(lookedUp).toEqual(['flags/a.jpg'])
  })

  it('makes no look-up for a key the listing showed without an object', async () => {
    const { sink, lookedUp } = lookupSink({})
    expect(await storedValidators('flags/b.jpg', Promise.resolve(new Set(['flags/b.jpg'])), pLimit(1), sink, running)).toBeUndefined()
    expect(lookedUp).toEqual([])
  })

  it('starts no look-up once the run has been aborted', async () => {
    const { sink, lookedUp } = lookupSink({})
    await expect(storedValidators('flags/a.jpg', Promise.resolve(new Set()), pLimit(1), sink, AbortSignal.abort())).rejects.toThrow()
    expect(lookedUp).toEqual([])
  })
})
