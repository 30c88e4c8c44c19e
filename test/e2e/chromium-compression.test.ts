/**
 * Compression with a real browser (Debian's headless Chromium): it negotiates permessage-deflate
 * with no context takeover, inflates the frames chat-api compressed once, and its own compressed
 * sends reach a plain `ws` client intact.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import WebSocket from 'ws'
import { chromium } from 'playwright-core'
import { Client, listen } from '../helper.js'
import { chatData } from '../helpers/deflate-clients.js'
import { deflateCount } from '../../src/hub/deflate-frame.js'
import { findChromium } from './helpers/find-chromium.js'

t.test('Chromium receives compressed messages and sends compressed ones', async t => {
  const executablePath = findChromium()
  if (executablePath === null) return t.fail('Chromium not found on PATH (chromium or chromium-browser): apt-get install -y chromium')
  const userDataDir = mkdtempSync(join(tmpdir(), 'chat-api-chromium-'))
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync']
  })
  t.teardown(async () => {
    await context.close()
    rmSync(userDataDir, { recursive: true, force: true })
  })
  context.setDefaultTimeout(15_000)
  const { url } = await listen(t, { WS_COMPRESSION: true, WS_RATE_LIMIT_PER_SEC: 0 })
  const room = `b${Math.random().toString(36).slice(2, 8)}`
  const page = context.pages()[0] ?? await context.newPage()

  // The browser's socket, on about:blank (no page CSP in the way): it records what it receives.
  const extensions = await page.evaluate(async (wsUrl) => {
    const ws = new globalThis.WebSocket(wsUrl)
    const got: unknown[] = []
    Object.assign(globalThis, { chatSocket: ws, chatFrames: got })
    // No named function in here: the page runs this function's source, and a named one would call
    // the `__name` helper the tests' TypeScript loader (tsx, esbuild's keepNames) adds.
    await new Promise(resolve => ws.addEventListener('message', () => resolve(null), { once: true }))
    ws.addEventListener('message', (e) => got.push(JSON.parse(e.data as string)))
    return ws.extensions
  }, `${url}/ws/${room}`)
  t.match(extensions, /permessage-deflate/, 'negotiated')
  t.match(extensions, /server_no_context_takeover/)
  t.match(extensions, /client_no_context_takeover/)

  const plainWs = new WebSocket(`${url}/ws/${room}`, { perMessageDeflate: false })
  t.teardown(() => { plainWs.terminate() })
  const plain = new Client(plainWs)
  await plain.next('welcome')

  const before = deflateCount()
  const data = chatData(3 * 1024, 21)
  await plain.request({ type: 'message', room, data })
  const delivered = await page.waitForFunction(() => {
    const frames = (globalThis as any).chatFrames as any[]
    return frames.find(f => f.type === 'message' && f.data?.tag === 'm21') ?? false
  }).then(handle => handle.jsonValue()) as any
  t.same(delivered.data, data, 'the browser inflated it intact')
  t.equal(deflateCount() - before, 1, 'compressed once, for the browser (the other socket is plain)')

  // Chromium compresses what it sends once the extension is negotiated.
  const sent = chatData(2 * 1024, 22)
  await page.evaluate(([r, d]) => (globalThis as any).chatSocket.send(JSON.stringify({ type: 'message', room: r, data: d })), [room, sent] as const)
  const frame = await plain.next(f => f.type === 'message' && f.data?.tag === 'm22')
  t.same(frame.data, sent, 'the browser\'s message reached the plain socket intact')
})
