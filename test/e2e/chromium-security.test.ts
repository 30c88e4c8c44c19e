/**
 * The pages under their security headers, in real headless Chromium (Debian's package): the CSP
 * lets the demo and Swagger UI render with no violation (Chromium reports each one as a console
 * error), and with auth on the demo shows who sent a message from the token, not from `data`, and
 * polls stats with its token in a header.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { listen } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'
import { findChromium } from './helpers/find-chromium.js'

async function browser (t: Test): Promise<BrowserContext | null> {
  const executablePath = findChromium()
  if (executablePath === null) {
    t.fail('Chromium not found on PATH (chromium or chromium-browser): apt-get install -y chromium')
    return null
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'chat-api-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 800 }
  })
  t.teardown(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true })
  })
  context.setDefaultTimeout(15_000)
  return context
}

/** Page errors, console errors (CSP violations among them) and failed requests. */
function watchErrors (page: Page, errors: string[], label: string): void {
  page.on('pageerror', err => errors.push(`${label}: ${err.message}`))
  page.on('console', msg => { if (msg.type() === 'error') errors.push(`${label}: ${msg.text()}`) })
  page.on('response', res => { if (res.status() >= 400 && !res.url().endsWith('/favicon.ico')) errors.push(`${label}: ${res.status()} ${res.url()}`) })
}

function checkHeaders (t: Test, headers: Record<string, string>, what: string): void {
  t.match(headers['content-security-policy'], /script-src 'self'/, `${what}: CSP`)
  t.match(headers['content-security-policy'], /frame-ancestors 'none'/, `${what}: no framing`)
  t.equal(headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
  t.equal(headers['referrer-policy'], 'no-referrer', `${what}: no referrer`)
}

t.test('Swagger UI renders under the CSP', async t => {
  const context = await browser(t)
  if (context === null) return
  const { http } = await listen(t)
  const page = context.pages()[0] ?? await context.newPage()
  const errors: string[] = []
  watchErrors(page, errors, 'docs')
  const res = await page.goto(`${http}/docs`)
  checkHeaders(t, res?.headers() ?? {}, '/docs')
  await page.locator('.swagger-ui .info .title', { hasText: 'chat-api' }).waitFor()
  await page.locator('.opblock-tag', { hasText: 'server-api' }).first().waitFor()
  t.ok(await page.locator('.opblock').count() > 5, 'the operations are listed')
  t.same(errors, [], 'no error, no CSP violation')
})

t.test('the demo with auth on: names from the token, stats token in a header, no CSP violation', async t => {
  const context = await browser(t)
  if (context === null) return
  const { http } = await listen(t, AUTH_CONFIG)
  const errors: string[] = []
  const statsRequests: Array<{ url: string, authorization: string | undefined }> = []
  const open = async (name: string, user: string): Promise<Page> => {
    const page = await context.newPage()
    watchErrors(page, errors, user)
    page.on('request', req => { if (req.url().includes('/ws/stats')) statsRequests.push({ url: req.url(), authorization: req.headers().authorization }) })
    const res = await page.goto(`${http}/?name=${name}`)
    checkHeaders(t, res?.headers() ?? {}, `demo of ${user}`)
    await page.fill('#token', sign({ sub: user }))
    await page.fill('#room', 'lobby')
    await page.click('#join')
    await page.locator('#messages li.system', { hasText: 'joined lobby' }).waitFor()
    return page
  }
  const ada = await open('Ada', 'ada')
  // Mallory calls herself "admin"; the token says she is mallory.
  const mallory = await open('admin', 'mallory')
  await mallory.fill('#text', 'trust me')
  await mallory.press('#text', 'Enter')
  const line = ada.locator('#messages li.message', { hasText: 'trust me' })
  await line.waitFor()
  t.equal(await line.locator('.who').textContent(), 'mallory', 'the sender is the token\'s sub, not the name it chose')
  await ada.locator('#people-list li', { hasText: /^mallory$/ }).waitFor()
  t.notOk((await ada.locator('#people-list li').allTextContents()).some(text => text.includes('admin')), 'nor in the member list')
  await ada.locator('#connections', { hasText: /^2$/ }).waitFor()

  t.ok(statsRequests.length > 0, 'stats were polled')
  t.notOk(statsRequests.some(r => r.url.includes('access_token')), 'never with the token in the URL')
  t.ok(statsRequests.some(r => /^Bearer \S+$/.test(r.authorization ?? '')), 'with the token in the Authorization header')
  t.same(errors, [], 'no error, no CSP violation')
})
