/**
 * The demo's read state in real headless Chromium, auth on, two instances over Redis: Dave writes
 * on instance A; Carol has the room open on instance B (the reader) and on A (a second device).
 * Both of Carol's pages show an unread badge; the reader clicks into the messages, which reads
 * the room: its badge clears, Dave's page shows "seen by carol" under the last message, and the
 * receipt clears the badge of Carol's other page too.
 */
import t from 'tap'
import type { Page } from 'playwright-core'
import { eventually } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { launchChromium, watchedPages } from './helpers/chromium.js'

async function open (page: Page, base: string, user: string, room: string): Promise<void> {
  await page.goto(`${base}/?name=${user}`)
  await page.fill('#token', sign({ sub: user }))
  await page.fill('#room', room)
  await page.click('#join')
  await page.locator('#messages li.system', { hasText: `joined ${room}` }).waitFor()
  await page.locator(`#rooms-list .badge[data-room="${room}"]`).waitFor()
}

const badge = (page: Page, room: string) => page.locator(`#rooms-list .badge[data-room="${room}"]`)

t.test('one page reads; the writer sees the receipt, and the reader\'s other page its badge clear', async t => {
  const chromium = await launchChromium(t, 15_000)
  if (chromium === null) return
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, AUTH_CONFIG)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, AUTH_CONFIG)
  const room = `seen-${Math.random().toString(36).slice(2, 8)}`

  const errors: string[] = []
  const [dave, reader, phone] = await watchedPages(chromium.context, errors, ['dave', 'carol', 'carol-phone'])
  await open(dave, a.http, 'dave', room)
  await open(reader, b.http, 'carol', room)
  await open(phone, a.http, 'carol', room)

  for (const text of ['one', 'two', 'three']) {
    await dave.fill('#text', text)
    await dave.press('#text', 'Enter')
    await eventually(async () => await dave.inputValue('#text') === '', 10_000)
  }
  for (const page of [reader, phone]) {
    await page.locator('#messages li.message', { hasText: 'three' }).waitFor()
    await eventually(async () => await badge(page, room).textContent() === '3', 10_000)
  }
  t.equal(await badge(dave, room).textContent(), '0', 'the writer has read its own messages')
  t.equal(await dave.textContent('#seen-by'), '', 'nobody has read them yet')

  await reader.click('#messages li.message >> nth=-1')
  await eventually(async () => await badge(reader, room).textContent() === '0', 10_000)
  await dave.locator('#seen-by', { hasText: 'seen by carol' }).waitFor()
  await eventually(async () => await badge(phone, room).textContent() === '0', 10_000)
  t.pass('the reader\'s badge cleared, the writer saw the receipt, the reader\'s other page cleared its badge')
  t.match(await badge(phone, room).getAttribute('class'), /read/)
  t.same(errors, [], 'no page error, console error or failed request')
})
