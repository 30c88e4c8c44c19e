/**
 * `/docs/asyncapi` in real headless Chromium (Debian's package, as in chromium-demo.test.ts): the
 * AsyncAPI React component, loaded from this service and nothing else, renders the served
 * document: its title, the four operations and every frame as a message; styled by the
 * component's own style sheet (its sans-serif font, not the browser's default serif), with the
 * Markdown of the descriptions rendered and no backtick left in the text.
 * ASYNCAPI_SCREENSHOT=<file.png> also copies the screenshot there, to look at.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { chromium } from 'playwright-core'
import { nameOf } from '../../src/docs/asyncapi.js'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../../src/schemas/frames.js'
import { listen } from '../helper.js'
import { findChromium } from './helpers/find-chromium.js'

// What the page's functions below use, run in Chromium, not in Node: the tests' TypeScript has no DOM library.
declare const document: { styleSheets: Iterable<{ href: string | null, cssRules: { length: number } }> }
declare function getComputedStyle (el: unknown, pseudo?: string): { fontFamily: string, color: string, content: string }

t.test('the AsyncAPI page renders the document with the component served by the package', async t => {
  const executablePath = findChromium()
  if (executablePath === null) {
    t.fail('Chromium not found on PATH (chromium or chromium-browser): apt-get install -y chromium')
    return
  }
  const { http } = await listen(t)
  const origin = new URL(http).origin

  const userDataDir = mkdtempSync(join(tmpdir(), 'chat-api-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 }
  })
  t.teardown(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true })
  })
  context.setDefaultTimeout(15_000)
  const page = context.pages()[0] ?? await context.newPage()
  const errors: string[] = []
  const elsewhere: string[] = []
  page.on('pageerror', err => errors.push(err.message))
  // A Content-Security-Policy violation is reported as a console error.
  // (Failed loads are reported by the response listener, which knows the favicon probe.)
  page.on('console', msg => { if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(msg.text()) })
  page.on('request', req => { if (!req.url().startsWith(origin + '/')) elsewhere.push(req.url()) })
  // The browser's own favicon probe at the site root is the one 404 that is not ours.
  page.on('response', res => { if (res.status() >= 400 && !res.url().endsWith('/favicon.ico')) errors.push(`${res.status()} ${res.url()}`) })

  // The page's `load` waits for the component's 3 MB script to be parsed and run: on a loaded
  // 2-core machine (two test files at once, each with its Chromium) that took past the 15 s default.
  const res = await page.goto(`${http}/docs/asyncapi`, { timeout: 60_000 })
  t.match(res?.headers()['content-security-policy'], /script-src 'self'/, 'served with a CSP')
  const root = page.locator('#asyncapi .aui-root')
  // The sidebar (collapsed at this width) repeats titles and names: only what is shown counts.
  await root.getByText('chat-api WebSocket').filter({ visible: true }).first().waitFor()
  await root.locator('h2', { hasText: 'Operations' }).filter({ visible: true }).waitFor()
  const operations = await root.locator('h3').filter({ hasText: /^(SEND|RECEIVE)/, visible: true }).allTextContents()
  t.same(operations.map(text => text.replace(/\s+/g, ' ').trim()).sort(),
    ['RECEIVE /ws', 'RECEIVE /ws/{room}', 'SEND /ws', 'SEND /ws/{room}'], 'the four operations')
  for (const name of [...CLIENT_FRAME_SCHEMAS, ...SERVER_FRAME_SCHEMAS].map(nameOf)) {
    t.ok(await root.getByText(name, { exact: true }).filter({ visible: true }).count() > 0, `message ${name} is shown`)
  }

  // Styles: the component's sheet and the page's own are loaded and applied.
  const sheets = await page.evaluate(() => [...document.styleSheets].map(sheet => ({ href: sheet.href ?? '', rules: sheet.cssRules.length })))
  t.ok(sheets.some(sheet => sheet.href.endsWith('/docs/asyncapi/default.min.css') && sheet.rules > 100), 'the component\'s style sheet is loaded')
  t.ok(sheets.some(sheet => sheet.href.endsWith('/docs/asyncapi/page.css') && sheet.rules > 0), 'the page\'s style sheet is loaded')
  const description = root.locator('.prose p', { hasText: 'Rooms and broadcasts over one WebSocket' }).filter({ visible: true }).first()
  const font = await description.evaluate(el => getComputedStyle(el).fontFamily)
  t.match(font, /^ui-sans-serif, system-ui\b/, 'text in the component\'s sans-serif stack')
  t.notMatch(font, /(^|,\s*)("?Times New Roman"?|serif)$/, 'not the browser\'s default serif')
  t.equal(await description.evaluate(el => getComputedStyle(el).color), 'rgb(74, 85, 104)', 'the component\'s prose colour (its `.prose` rule)')
  const code = description.locator('code', { hasText: /^send$/ })
  t.equal(await code.count(), 1, 'the Markdown of a description is rendered: `send` is a <code>')
  t.match(await code.evaluate(el => getComputedStyle(el).fontFamily), /monospace/, 'in the component\'s monospace font')

  // No backtick in what the page shows: not in its text, not in generated content around code.
  const text = await root.innerText()
  t.ok(text.includes('Close codes'), 'the text read is the rendered document')
  t.same(text.match(/.{0,30}`.{0,30}/g) ?? [], [], 'no literal backtick in the rendered text')
  const quoted = await root.locator('code').evaluateAll(els => els.filter(el =>
    [getComputedStyle(el, '::before').content, getComputedStyle(el, '::after').content].some(c => c.includes('`'))).length)
  t.equal(quoted, 0, 'no backtick drawn around code either')

  const shot = join(userDataDir, 'asyncapi.png')
  await page.screenshot({ path: shot })
  t.same(readFileSync(shot).subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'a PNG screenshot')
  if (process.env.ASYNCAPI_SCREENSHOT !== undefined) copyFileSync(shot, process.env.ASYNCAPI_SCREENSHOT)

  t.same(errors, [], 'no page error, no CSP violation, no failed request')
  t.same(elsewhere, [], 'nothing loaded from anywhere but this service')
})
