/**
 * Headless Chromium for the demo page tests (chromium-demo, chromium-read-state): Debian's package
 * (CI's .ci/run installs it; a machine without it fails, it does not skip), a profile of its own
 * removed at teardown, and pages watched for what they report as an error.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { findChromium } from './find-chromium.js'

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'
]

interface Test {
  teardown: (fn: () => unknown) => void
  fail: (message: string) => void
}

export interface Chromium {
  context: BrowserContext
  /** The profile's folder, removed at teardown: room for a test's own files (a screenshot). */
  dir: string
}

/** Chromium at the demo's size, each wait bounded by `timeoutMs`; null (the test failed) when it is not installed. */
export async function launchChromium (t: Test, timeoutMs: number): Promise<Chromium | null> {
  const executablePath = findChromium()
  if (executablePath === null) {
    t.fail('Chromium not found on PATH (chromium or chromium-browser): apt-get install -y chromium')
    return null
  }
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-chromium-'))
  const context = await chromium.launchPersistentContext(dir, { executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 900, height: 640 } })
  t.teardown(async () => {
    await context.close()
    rmSync(dir, { recursive: true, force: true })
  })
  context.setDefaultTimeout(timeoutMs)
  return { context, dir }
}

/** Records what the page reports as an error (uncaught, console, failed request) in `errors`; the tests assert there is none. */
export function watchErrors (page: Page, errors: string[], label: string): void {
  page.on('pageerror', err => errors.push(`${label}: ${err.message}`))
  page.on('console', msg => { if (msg.type() === 'error') errors.push(`${label}: ${msg.text()}`) })
  page.on('response', res => { if (res.status() >= 400) errors.push(`${label}: ${res.status()} ${res.url()}`) })
}

/** A page per label (the first is the one Chromium opened), each watched under its label. */
export async function watchedPages (context: BrowserContext, errors: string[], labels: string[]): Promise<Page[]> {
  const pages: Page[] = []
  for (const label of labels) {
    const page = (pages.length === 0 ? context.pages()[0] : undefined) ?? await context.newPage()
    watchErrors(page, errors, label)
    pages.push(page)
  }
  return pages
}
