import chromium from '@sparticuz/chromium'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import puppeteer, { type Browser } from 'puppeteer-core'
import { projectRoot } from './serverless.ts'

/** Where the browser tests leave their screenshots, for a person to look at. */
export const SCREENSHOTS = join(projectRoot, 'test-results', 'pages')

/**
 * Headless Chromium from the npm package @sparticuz/chromium (no system browser needed), with
 * the flags that keep it off the network beyond loopback.
 */
export async function startBrowser(): Promise<Browser> {
  await mkdir(SCREENSHOTS, { recursive: true })
  return puppeteer.launch({
    executablePath: await chromium.executablePath(),
    args: [...chromium.args, '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    headless: true,
    defaultViewport: { width: 390, height: 844, isMobile: true, hasTouch: true },
  })
}
