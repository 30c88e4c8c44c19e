/**
 * A receiver that fails for 30 s, then answers: every event arrives, with the id it had from the
 * start; its attempts come 1 s, 2 s, 4 s, ... apart, at most WEBHOOK_MAX_RETRY_DELAY_MS (shortened
 * here); exactly one attempt per event is acknowledged, and an event gets more than one attempt
 * only after one failed. A receiver that refuses connections is retried the same way, and an event
 * never acknowledged within WEBHOOK_RETRY_FOR_SEC is dropped and counted.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { eventually, listen } from '../helper.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { newWebhookSecret, startReceiver } from '../helpers/webhook-receiver.js'
import { scrape, valueOf } from '../helpers/prometheus.js'

const MAX_DELAY_MS = 4000
const DOWN_MS = 30_000
/** Lateness an attempt may have past its schedule on a loaded machine (timers, the poll, a Redis round trip). */
const SLACK_MS = 1500

async function post (http: string, room: string, data: unknown): Promise<string> {
  const res = await fetch(`${http}/rooms/${room}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }) })
  return ((await res.json()) as { messageId: string }).messageId
}

test('receiver failing for 30 s, then up: every event arrives once acknowledged, ids unchanged, retries spaced per contract', async (t) => {
  const receiver = await startReceiver(t)
  receiver.answer = 503
  const { app, http } = await listen(t, {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_CHANNEL_PREFIX: uniquePrefix(),
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_MAX_RETRY_DELAY_MS: MAX_DELAY_MS,
    WEBHOOK_EVENTS: 'message.stored'
  })
  const messageIds: string[] = []
  for (let i = 0; i < 5; i++) messageIds.push(await post(http, 'orders', { n: i }))
  await sleep(DOWN_MS)
  receiver.answer = 204
  const expectedIds = messageIds.map(id => `msg_${id}`).sort()
  await eventually(() => new Set(receiver.received.filter(r => r.status === 204).map(r => r.json.id)).size === expectedIds.length, 20_000)

  const acked = receiver.received.filter(r => r.status === 204)
  t.same(acked.map(r => r.json.id).sort(), expectedIds, 'every event acknowledged once, with the id it was given')
  for (const id of expectedIds) {
    const attempts = receiver.received.filter(r => r.json.id === id)
    t.ok(attempts.length >= 2, `${id}: several attempts`)
    t.equal(attempts.filter(r => r.status === 204).length, 1, `${id}: one acknowledged attempt`)
    t.equal(attempts.at(-1)?.status, 204, `${id}: retried only after a failure`)
    t.equal(new Set(attempts.map(r => r.body)).size, 1, `${id}: the same body every time`)
    for (let i = 1; i < attempts.length; i++) {
      const expected = Math.min(1000 * 2 ** (i - 1), MAX_DELAY_MS)
      const gap = attempts[i].at - attempts[i - 1].at
      t.ok(gap >= expected - 50 && gap <= expected + SLACK_MS, `${id}: attempt ${i + 1} came ${gap} ms after the previous (schedule: ${expected} ms)`)
    }
  }
  // The receiver recorded the last one before its answer reached the sender.
  await eventually(async () => valueOf(await scrape(app), 'chat_api_webhooks_total', { type: 'message.stored', result: 'ok' }) === 5)
  const metrics = await scrape(app)
  t.ok(valueOf(metrics, 'chat_api_webhooks_total', { type: 'message.stored', result: 'retried' }) >= 5 * 8)
})

for (const mode of ['memory', 'redis'] as const) {
  test(`receiver refusing connections, then up: every event arrives (${mode} queue); past WEBHOOK_RETRY_FOR_SEC one is dropped and counted`, async (t) => {
    const receiver = await startReceiver(t)
    await receiver.down()
    const { app, http } = await listen(t, {
      ...(mode === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() } : {}),
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: newWebhookSecret(),
      WEBHOOK_MAX_RETRY_DELAY_MS: 1000,
      WEBHOOK_RETRY_FOR_SEC: 6,
      WEBHOOK_TIMEOUT_MS: 1000
    })
    const first = await post(http, 'r', 'kept')
    await sleep(3000)
    await receiver.up()
    await eventually(() => receiver.received.some(r => r.json.id === `msg_${first}`))
    t.equal(receiver.received.filter(r => r.json.id === `msg_${first}`).length, 1, 'the first attempt that reached the receiver was acknowledged')

    // Now failing past WEBHOOK_RETRY_FOR_SEC: dropped, counted.
    receiver.answer = 500
    const doomed = await post(http, 'r', 'dropped')
    await eventually(async () => valueOf(await scrape(app), 'chat_api_webhooks_total', { type: 'message.stored', result: 'dropped' }) === 1, 15_000)
    const attempts = receiver.received.filter(r => r.json.id === `msg_${doomed}`)
    t.ok(attempts.length >= 3 && attempts.length <= 8, `attempted ${attempts.length} times over 6 s, 1 s apart`)
    receiver.answer = 204
    const marker = await post(http, 'r', 'after')
    await eventually(() => receiver.received.some(r => r.json.id === `msg_${marker}`))
    t.equal(receiver.received.filter(r => r.json.id === `msg_${doomed}`).length, attempts.length, 'a dropped event is not sent again')
  })
}
