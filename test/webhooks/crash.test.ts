/**
 * At least once across a crash: an instance queues events in Redis, holds them (the receiver is
 * down), and is SIGKILLed. Another instance takes them over and delivers them, with their ids,
 * within WEBHOOK_TIMEOUT_MS + 10 s of the kill.
 */
import { test } from 'tap'
import { adminClient, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { createInstance } from '../e2e/helpers/instances.js'
import { eventually } from '../helper.js'
import { newWebhookSecret, startReceiver } from '../helpers/webhook-receiver.js'
import { webhookStreamKey } from '../../src/webhooks/redis-store.js'

const TIMEOUT_MS = 2000

test('events held by a SIGKILLed instance are delivered by another', async (t) => {
  const receiver = await startReceiver(t)
  await receiver.down()
  const prefix = uniquePrefix()
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_CHANNEL_PREFIX: prefix,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_TIMEOUT_MS: TIMEOUT_MS,
    WEBHOOK_EVENTS: 'message.stored'
  }
  const doomed = await createInstance(t, { name: 'doomed', env })
  const survivor = await createInstance(t, { name: 'survivor', env })
  await doomed.start()
  const ids: string[] = []
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${doomed.http}/rooms/sales/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: i }) })
    ids.push(`msg_${((await res.json()) as { messageId: string }).messageId}`)
  }
  const admin = adminClient(t)
  const key = webhookStreamKey(prefix)
  // Queued in Redis and held by the doomed instance (it retries them: nobody answers).
  await eventually(async () => Number((await admin.xpending(key, 'senders') as [number])[0]) === ids.length)
  await survivor.start()

  await doomed.stop('SIGKILL')
  const killedAt = Date.now()
  await receiver.up()
  await eventually(() => ids.every(id => receiver.received.some(r => r.json.id === id && r.status === 204)), TIMEOUT_MS + 20_000)
  const last = Math.max(...ids.map(id => receiver.received.find(r => r.json.id === id)?.at ?? Infinity))
  t.ok(last - killedAt <= TIMEOUT_MS + 10_000, `all delivered ${last - killedAt} ms after the kill (bound: WEBHOOK_TIMEOUT_MS + 10 s)`)
  for (const [id, count] of receiver.countsById()) t.equal(count, 1, `${id} once: nothing reached the receiver before the kill`)
  await eventually(async () => Number((await admin.xpending(key, 'senders') as [number])[0]) === 0)
  t.equal(await admin.xlen(key), 0, 'acknowledged events leave the stream')
})
