/**
 * The demo page in real headless Chromium: two pages, each on its own instance of a two-instance
 * cluster over Redis, in one room; each sees the other's message, who is in the room (presence)
 * and who is typing (transient messages). Chromium is Debian's package
 * (CI's .ci/run installs it); a machine without it fails here, it does not skip.
 * UPDATE_DEMO_SCREENSHOT=1 also writes the screenshot to docs/demo.png.
 */
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Duplex } from 'node:stream'
import t from 'tap'
import type { Page } from 'playwright-core'
import { eventually, PREFIX } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { launchChromium, watchedPages, watchErrors } from './helpers/chromium.js'

const SCREENSHOT = fileURLToPath(new URL('../../docs/demo.png', import.meta.url))
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

async function joinRoom (page: Page, room: string): Promise<void> {
  await page.fill('#room', room)
  await page.click('#join')
  await page.locator('#messages li.system', { hasText: `joined ${room}` }).waitFor()
  await page.locator('#status', { hasText: 'connected' }).waitFor()
}

async function say (page: Page, text: string): Promise<void> {
  await page.fill('#text', text)
  await page.press('#text', 'Enter')
  // Cleared once the server acked it.
  await eventually(async () => await page.inputValue('#text') === '', 10_000)
}

t.test('two browsers on two instances chat in one room', async t => {
  const chromium = await launchChromium(t, 10_000)
  if (chromium === null) return
  const { context } = chromium

  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const instanceA = (await a.app.inject(`${PREFIX}/ws/stats`)).json().instanceId
  const instanceB = (await b.app.inject(`${PREFIX}/ws/stats`)).json().instanceId
  t.not(instanceA, instanceB)

  const errors: string[] = []
  const [ada, bob] = await watchedPages(context, errors, ['ada', 'bob'])

  // B's upgraded TCP sockets, to cut Bob's connection as a network would.
  const socketsOnB: Duplex[] = []
  b.app.server.on('upgrade', (_request: unknown, socket: Duplex) => socketsOnB.push(socket))

  await ada.goto(`${a.http}/?name=Ada`)
  await bob.goto(`${b.http}/?name=Bob`)
  await joinRoom(ada, 'lobby')
  await joinRoom(bob, 'lobby')
  t.equal(await ada.textContent('#instance'), instanceA, 'Ada sees the instance she is on')
  t.equal(await bob.textContent('#instance'), instanceB, 'Bob sees the instance he is on')
  // Polled from here: Playwright's waitForFunction evaluates its predicate with eval, which the page's CSP refuses.
  const peopleCount = (page: Page, n: number) => eventually(async () => await page.locator('#people-list li').count() === n, 10_000)
  await peopleCount(ada, 2)
  await ada.locator('#people-list li', { hasText: /^Bob$/ }).waitFor()
  t.same((await ada.locator('#people-list li').allTextContents()).sort(), ['Ada (you)', 'Bob'], 'the live list: herself, and Bob from the other instance')

  await say(ada, 'Hello from instance A')
  const atBob = bob.locator('#messages li.message', { hasText: 'Hello from instance A' })
  await atBob.waitFor()
  t.equal(await atBob.locator('.who').textContent(), 'Ada', 'the sender\'s name comes with the message')

  // Typing signals are transient messages: Ada sees Bob typing until his message comes.
  await bob.fill('#text', 'Hi Ada, Bob here on B')
  await ada.locator('#typing', { hasText: 'Bob is typing…' }).waitFor()
  await bob.press('#text', 'Enter')
  await eventually(async () => await bob.inputValue('#text') === '', 10_000)
  await eventually(async () => await ada.textContent('#typing') === '', 10_000)
  const atAda = ada.locator('#messages li.message', { hasText: 'Bob here on B' })
  await atAda.waitFor()
  t.equal(await atAda.locator('.who').textContent(), 'Bob')
  t.equal(await ada.locator('#messages li.message').count(), 2, 'each message once: her own echo and Bob\'s')
  t.equal(await ada.locator('#messages li.message.mine').count(), 1)

  // Live counts come from polling /ws/stats: one socket per instance, one member of lobby each.
  for (const page of [ada, bob]) {
    await page.locator('#connections', { hasText: /^1$/ }).waitFor()
    await page.locator('#room-count', { hasText: /^1$/ }).waitFor()
  }

  // Bob's socket drops; Ada talks meanwhile; Bob's page comes back with what he missed, once.
  for (const socket of socketsOnB) socket.destroy()
  await bob.locator('body.reconnecting').waitFor()
  await say(ada, 'Said while Bob was away')
  await bob.locator('#messages li.system', { hasText: 'back: nothing missed' }).waitFor()
  await bob.locator('#messages li.message', { hasText: 'Said while Bob was away' }).waitFor()
  t.equal(await bob.locator('#messages li.message').count(), 3, 'Bob has every message once')

  // A page that joins later loads the room's last messages, oldest first.
  const cy = await context.newPage()
  watchErrors(cy, errors, 'cy')
  await cy.goto(`${a.http}/?name=Cy`)
  await joinRoom(cy, 'lobby')
  await peopleCount(ada, 3)
  await peopleCount(cy, 3)
  await cy.locator('#messages li.message', { hasText: 'Said while Bob was away' }).waitFor()
  t.same(await cy.locator('#messages li.message .text').allTextContents(),
    ['Hello from instance A', 'Hi Ada, Bob here on B', 'Said while Bob was away'], 'the history, in order')
  await cy.close()
  await peopleCount(ada, 2)
  await ada.locator('#people-list li', { hasText: /^Bob$/ }).waitFor() // his new connection, named by its hello
  t.same((await ada.locator('#people-list li').allTextContents()).sort(), ['Ada (you)', 'Bob'], 'Cy left the list when her page closed')
  t.same(errors, [], 'no error in any page')

  const shot = join(chromium.dir, 'demo.png')
  await ada.screenshot({ path: shot })
  t.same(readFileSync(shot).subarray(0, 8), PNG_MAGIC, 'a PNG screenshot')
  if (process.env.UPDATE_DEMO_SCREENSHOT === '1') copyFileSync(shot, SCREENSHOT)
})
