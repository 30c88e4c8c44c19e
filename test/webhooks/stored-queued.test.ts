/**
 * message.stored at least once from the send on: a stored send is acknowledged (ack, 201) only once
 * its event is in the queue. A queue write that fails (a wrong-type key where the stream should be,
 * on a Redis of this test) answers the send `unavailable`, although the message is stored; the
 * client resends with its key, and that resend, found stored, raises the event with the id of the
 * stored message. A duplicate send raises it again with the same id. Webhooks on without
 * message.stored: a broken queue is nobody's business on the send path.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, eventually, listen } from '../helper.js'
import { adminClient, TEST_REDIS_URL, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'
import { newWebhookSecret, startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.js'
import { webhookStreamKey } from '../../src/webhooks/redis-store.js'

/** Long enough for an event queued to reach a receiver that is up (the dispatcher polls every 500 ms). */
const SETTLE_MS = 1500

async function post (http: string, room: string, data: unknown, key?: string): Promise<{ status: number, body: any }> {
  const res = await fetch(`${http}/rooms/${room}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data, key }) })
  return { status: res.status, body: await res.json() }
}

function attemptsOf (receiver: WebhookReceiver, id: string): any[] {
  return receiver.received.filter(r => r.json?.id === id)
}

test('the queue write fails: the send is answered unavailable; the resend with its key raises message.stored once, as msg_<messageId>', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const receiver = await startReceiver(t)
  const prefix = uniquePrefix()
  const { http, url } = await listen(t, {
    REDIS_URL: redis.url,
    REDIS_CHANNEL_PREFIX: prefix,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_EVENTS: 'message.stored',
    HTTP_RATE_LIMIT_PER_MIN: 0
  })
  const admin = adminClient(t, redis.url)
  const stream = webhookStreamKey(prefix)
  // A string where the stream should be: every XADD to it fails with WRONGTYPE.
  await admin.multi().del(stream).set(stream, 'not a stream').exec()

  const refused = await post(http, 'orders', { n: 1 }, 'order-1')
  t.equal(refused.status, 503, 'the HTTP send is answered 503')
  t.match(refused.body, { error: 'unavailable', message: /webhook could not be queued/ })
  const client = await connect(t, `${url}/ws`)
  t.equal((await client.request({ type: 'join', room: 'orders' })).type, 'joined')
  const refusedFrame = await client.request({ type: 'message', room: 'orders', data: { n: 2 }, key: 'order-2' })
  t.match(refusedFrame, { type: 'error', code: 'unavailable' }, 'the socket send is answered with an unavailable error, no ack')
  t.match(await client.next(f => f.type === 'message' && f.data.n === 2), { offset: 2 }, 'and the message was delivered all the same')

  const stored = (await (await fetch(`${http}/rooms/orders/history`)).json()) as { messages: any[] }
  t.same(stored.messages.map(m => m.data), [{ n: 1 }, { n: 2 }], 'both were stored before their events failed to queue')
  await sleep(SETTLE_MS)
  t.equal(receiver.received.length, 0, 'nothing was queued, so nothing was sent')

  await admin.del(stream)
  const resent = await post(http, 'orders', { n: 1 }, 'order-1')
  t.equal(resent.status, 201, 'the resend is acknowledged once its event is queued')
  t.equal(resent.body.messageId, stored.messages[0].messageId, 'the resend names the message stored by the first send')
  const resentFrame = await client.request({ type: 'message', room: 'orders', data: { n: 2 }, key: 'order-2' })
  t.match(resentFrame, { type: 'ack', messageId: stored.messages[1].messageId, offset: 2 })

  const ids = stored.messages.map(m => `msg_${m.messageId as string}`)
  await eventually(() => ids.every(id => attemptsOf(receiver, id).length > 0))
  await sleep(SETTLE_MS)
  t.same([...receiver.countsById()].sort(), ids.map(id => [id, 1]).sort(), 'one event per successful queue write, none for the failed ones')
  const [first] = attemptsOf(receiver, ids[0])
  t.match(first.json, {
    type: 'message.stored',
    id: ids[0],
    data: { room: 'orders', messageId: stored.messages[0].messageId, offset: 1, epoch: stored.messages[0].epoch, data: { n: 1 }, key: 'order-1' }
  })
})

test('a duplicate send (same key) raises message.stored again, with the same id', async (t) => {
  const receiver = await startReceiver(t)
  const { http } = await listen(t, {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_CHANNEL_PREFIX: uniquePrefix(),
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_EVENTS: 'message.stored',
    HTTP_RATE_LIMIT_PER_MIN: 0
  })
  const first = await post(http, 'dup', 'hello', 'once')
  t.equal(first.status, 201)
  const id = `msg_${first.body.messageId as string}`
  await eventually(() => attemptsOf(receiver, id).length === 1)

  const again = await post(http, 'dup', 'hello', 'once')
  t.equal(again.status, 201)
  t.same(again.body, first.body, 'the duplicate is answered as the first')
  await eventually(() => attemptsOf(receiver, id).length === 2)
  await sleep(SETTLE_MS)
  const attempts = attemptsOf(receiver, id)
  t.equal(attempts.length, 2, 'once per send: the receiver deduplicates by id')
  t.same(attempts.map(a => a.headers['webhook-id']), [id, id])
  t.same(attempts.map(a => a.json.data), [attempts[0].json.data, attempts[0].json.data], 'the same message, offset and epoch')
  t.match(attempts[0].json.data, { room: 'dup', messageId: first.body.messageId, offset: first.body.offset, epoch: first.body.epoch, key: 'once' })
  const history = (await (await fetch(`${http}/rooms/dup/history`)).json()) as { messages: unknown[] }
  t.equal(history.messages.length, 1, 'stored once')
})

test('webhooks on without message.stored: a queue that cannot be written does not touch the send', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  const { http } = await listen(t, {
    REDIS_URL: redis.url,
    REDIS_CHANNEL_PREFIX: prefix,
    WEBHOOK_URL: 'http://127.0.0.1:9/unused',
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_EVENTS: 'room.occupied,room.vacated'
  })
  const stream = webhookStreamKey(prefix)
  await adminClient(t, redis.url).multi().del(stream).set(stream, 'not a stream').exec()
  const sent = await post(http, 'quiet', 1, 'k')
  t.equal(sent.status, 201)
  t.match(sent.body, { offset: 1 })
})
