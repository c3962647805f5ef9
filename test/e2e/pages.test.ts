/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { join } from 'node:path'
import type { Browser, Page } from 'puppeteer-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { image, startOrigin, type OriginFixture } from '../../devkit/originFixture.ts'
import { SAMPLE_JPEG } from '../../devkit/sampleOrigin.ts'
import { SCREENSHOTS, startBrowser } from '../support/browser.ts'
import { startLocalStack, type LocalStack } from '../support/localStack.ts'

// The gallery and the job page in a real browser, against the local stack as `npm start` runs it.
const BUILD_FOLDER = '.esbuild/local-pages-test'

let stack: LocalStack
let browser: Browser
let page: Page
let origin: OriginFixture | undefined

beforeAll(async () => {
  stack = await startLocalStack({ buildFolder: BUILD_FOLDER })
  browser = await startBrowser()
  page = await browser.newPage()
}, 180_000)

afterAll(async () => {
  await browser?.close()
  await stack?.stop()
})

afterEach(async () => {
  await origin?.close()
  origin = undefined
})

async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${stack.offline.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return (await response.json()) as Record<string, unknown>
}

/** Every image of the page has loaded with pixels, or failed: the count of each. */
async function thumbnails(): Promise<{ loaded: number; broken: number }> {
  await page.waitForFunction(() => [...document.querySelectorAll('img')].every((img) => img.complete), { timeout: 30_000 })
  return page.$$eval('img', (images) => ({
    loaded: images.filter((img) => img.naturalWidth > 0).length,
    broken: images.filter((img) => img.naturalWidth === 0).length,
  }))
}

describe('The gallery in a browser', () => {
  it('shows a finished batch a page at a time, every thumbnail loaded, the next link reaching the last image', async () => {
    const codes = Array.from({ length: 230 }, (_, i) => `g${String(i).padStart(3, '0')}`)
    origin = await startOrigin(Object.fromEntries(codes.map((code) => [`/${code}.jpg`, image(SAMPLE_JPEG)])))
    const stored = await post('/download', { codes, baseUrl: origin.baseUrl, prefix: 'flags/gallery/', concurrency: 16 })
    expect(stored['counter']).toEqual({ ok: 230, not_found: 0, error: 0 })

    await page.goto(`${stack.offline.httpUrl}/gallery?prefix=flags/gallery/`)
    await page.screenshot({ path: join(SCREENSHOTS, 'gallery.png'), fullPage: true })
    const seen: string[] = []
    for (let pages = 1; ; pages += 1) {
      expect(await thumbnails()).toEqual({ loaded: await page.$$eval('img', (images) => images.length), broken: 0 })
      seen.push(...(await page.$$eval('.code', (nodes) => nodes.map((node) => node.textContent ?? ''))))
      const next = await page.$('a[rel=next]')
      if (next === null) {
        expect(pages).toBe(3)
        break
      }
      // By keyboard, as a person without a mouse would.
      await next.focus()
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')])
    }
    expect(seen).toEqual(codes)
    expect(await page.$eval('.count', (node) => node.textContent)).toBe('30 images on this page')
  })

  it('shows a code shaped like markup as text, and an empty prefix as a friendly empty state', async () => {
    const key = 'flags/odd/<img src=x onerror="window.pwned=1">.jpg'
    await stack.s3.client.send(new PutObjectCommand({ Bucket: stack.s3.bucket, Key: key, Body: SAMPLE_JPEG, ContentType: 'image/jpeg' }))

    await page.goto(`${stack.offline.httpUrl}/gallery?prefix=flags/odd/`)
    expect(await page.$eval('.code', (node) => node.textContent)).toBe('<img src=x onerror="window.pwned=1">')
    expect(await page.evaluate(() => (window as { pwned?: unknown }).pwned)).toBeUndefined()
    expect(await page.$$eval('img', (images) => images.map((img) => img.getAttribute('alt')))).toEqual(['<img src=x onerror="window.pwned=1">'])
    expect(await thumbnails()).toEqual({ loaded: 1, broken: 0 })

    await page.goto(`${stack.offline.httpUrl}/gallery?prefix=flags/nothing-here/`)
    await page.screenshot({ path: join(SCREENSHOTS, 'gallery-empty.png') })
    expect(await page.$eval('.empty', (node) => node.textContent)).toBe('No images under flags/nothing-here/ yet. Store some with POST /download or a job.')
  })
})

describe('A job page in a browser', () => {
  it('moves its bar as the job runs, without a reload, and ends at done with the counts and its links', async () => {
    // Ten chunks for four workers, each chunk a second or more: the page sees the job between its start and its end.
    const codes = Array.from({ length: 1000 }, (_, i) => `p${String(i).padStart(4, '0')}`)
    const missing = new Set(codes.filter((_, i) => i % 100 === 7))
    origin = await startOrigin(Object.fromEntries(codes.filter((code) => !missing.has(code)).map((code) => [`/${code}.jpg`, image(SAMPLE_JPEG, { delayMs: 20 })])))
    const accepted = await post('/jobs', { codes, baseUrl: origin.baseUrl, prefix: 'flags/live/', concurrency: 2 })
    const jobId = String(accepted['jobId'])

    await page.goto(`${stack.offline.httpUrl}/gallery/jobs/${jobId}`)
    const first = await page.$eval('#progress', (bar) => (bar as HTMLProgressElement).value)
    // Moved on from what the page was rendered with, before the job was done: its own script at work.
    await page.waitForFunction((start: number) => {
      const bar = document.getElementById('progress') as HTMLProgressElement
      return bar.value > start && bar.value < bar.max
    }, { timeout: 60_000 }, first)
    await page.screenshot({ path: join(SCREENSHOTS, 'job-running.png'), fullPage: true })
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'done', { timeout: 90_000 })
    await page.screenshot({ path: join(SCREENSHOTS, 'job-done.png'), fullPage: true })

    const shown = await page.evaluate(() => ({
      value: (document.getElementById('progress') as HTMLProgressElement).value,
      ok: document.getElementById('ok')?.textContent,
      notFound: document.getElementById('not_found')?.textContent,
      error: document.getElementById('error')?.textContent,
      failures: document.querySelectorAll('#failures tr').length,
      doneShown: !(document.getElementById('done') as HTMLElement).hidden,
      report: (document.getElementById('report') as HTMLAnchorElement).href,
    }))
    expect(shown).toMatchObject({ value: 1000, ok: '990', notFound: '10', error: '0', failures: 10, doneShown: true })
    // Every chunk counted, every code once.
    const job = (await (await fetch(`${stack.offline.httpUrl}/jobs/${jobId}`)).json()) as { total: number; chunks: number; chunksDone: number; counter: Record<string, number> }
    expect([job.chunksDone, Object.values(job.counter).reduce((sum, count) => sum + count, 0)]).toEqual([job.chunks, job.total])
    const report = await (await fetch(shown.report)).text()
    expect(report.trim().split('\n')).toHaveLength(11)
    await Promise.all([page.waitForNavigation(), page.click('#done a[href^="/gallery"]')])
    expect(await page.$$eval('.code', (nodes) => nodes.length)).toBe(100)
  })

  it('lists the recent jobs from the index page', async () => {
    await page.goto(`${stack.offline.httpUrl}/`)
    await Promise.all([page.waitForNavigation(), page.click('a[href="/gallery/jobs"]')])
    await page.screenshot({ path: join(SCREENSHOTS, 'jobs.png'), fullPage: true })
    const rows = await page.$$eval('tbody tr', (nodes) => nodes.length)
    expect(rows).toBeGreaterThanOrEqual(1)
    expect(await page.$eval('tbody tr td:nth-child(2)', (node) => node.textContent)).toBe('done')
  })
})
