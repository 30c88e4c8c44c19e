/**
 * What the Redis queue costs per event, counted by Redis itself (INFO commandstats, on a
 * redis-server of this file only): a burst queued in one turn is one pipeline, which also carries
 * the read of what is new for the dispatcher and the XACK/XDEL of what was answered since; the
 * answers of a burst leave the stream together. Every event still reaches the receiver exactly once.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { Dispatcher } from '../../src/webhooks/dispatcher.js'
import { RedisStore } from '../../src/webhooks/redis-store.js'
import { WebhookSender } from '../../src/webhooks/sender.js'
import { Webhooks } from '../../src/webhooks/webhooks.js'
import { eventually } from '../helper.js'
import { commandCalls } from '../helpers/command-stats.js'
import { quietLog } from '../helpers/quiet-log.js'
import { RedisProcess } from '../helpers/redis-process.js'
import { startReceiver } from '../helpers/webhook-receiver.js'

const BURSTS = 20
const PER_BURST = 50

t.test(`${BURSTS} bursts of ${PER_BURST} events: a few commands per burst, not per event; each event arrives once`, async (t) => {
  const redis = await RedisProcess.start(t)
  const receiver = await startReceiver(t)
  const client = new Redis(redis.url)
  t.teardown(() => client.disconnect())
  await client.ping()
  const log = quietLog
  const store = new RedisStore({ client, prefix: 'q', consumer: 'c1', log })
  const sender = new WebhookSender({ url: receiver.url, key: Buffer.alloc(32, 7), timeoutMs: 5000 })
  t.teardown(() => sender.close())
  let ok = 0
  const dispatcher = new Dispatcher({ store, send: e => sender.send(e), maxRetryDelayMs: 1000, retryForMs: 60_000, counted: (_t, r) => { if (r === 'ok') ok++ }, log })
  t.teardown(() => dispatcher.close())
  const webhooks = new Webhooks({ store, dispatcher, types: new Set(['message.stored']), counted: () => {}, log })
  dispatcher.start()
  await eventually(async () => (await client.xinfo('GROUPS', 'q:{webhooks}:queue') as unknown[]).length === 1, 5000)

  const admin = redis.client(t)
  await admin.call('CONFIG', 'RESETSTAT')
  for (let b = 0; b < BURSTS; b++) {
    const queued = []
    for (let i = 0; i < PER_BURST; i++) queued.push(webhooks.messageStored('r', `m-${b}-${i}`, b * PER_BURST + i + 1, 'E', '{"user":"u"}', '{"n":1}', undefined))
    t.ok((await Promise.all(queued)).every(q => q === true), `burst ${b} queued`)
  }
  const total = BURSTS * PER_BURST
  await eventually(async () => ok === total, 20_000)
  await new Promise(resolve => setTimeout(resolve, 300)) // the last answers' XACK/XDEL, and any late duplicate

  const ids = receiver.received.map(r => r.json?.id)
  t.equal(ids.length, total, 'each event sent once')
  t.equal(new Set(ids).size, total, 'no id twice')
  const stats = await commandCalls(admin)
  const calls = (name: string): number => stats.get(name) ?? 0
  t.equal(calls('xadd'), total, 'one XADD per event')
  t.ok(calls('xreadgroup') <= BURSTS * 3, `reads per burst, not per event: ${calls('xreadgroup')} XREADGROUP for ${BURSTS} bursts`)
  t.ok(calls('xack') <= total / 2, `answers acknowledged together: ${calls('xack')} XACK for ${total} events`)
  t.equal(calls('xack'), calls('xdel'), 'each XACK with its XDEL')
  t.equal(await client.xlen('q:{webhooks}:queue'), 0, 'the stream is empty once all were answered')
})
