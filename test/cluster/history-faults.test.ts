/**
 * History under faults, with real Redis processes: a subscriber link cut mid-stream is caught up
 * from the history (no gap), or, when the history no longer holds what was missed, its members are
 * told with 4010; a Redis down refuses room messages with `unavailable`; a Redis restarted without
 * its data starts a new epoch, told in-band on the next message (no socket is closed).
 */
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { connect, eventually, PREFIX, type Client } from '../helper.js'
import { adminClient, clientsNamed, clusterApp, statsOf, TEST_REDIS_URL, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

const messagesOf = (client: Client) => client.frames.filter(f => f.type === 'message')
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

async function killSubscriber (t: { equal: (a: unknown, b: unknown) => void }, app: FastifyInstance): Promise<void> {
  const admin = adminClient({ teardown: () => {} })
  const [sub] = await clientsNamed(admin, `${(await statsOf(app)).instanceId}:sub`)
  t.equal(await admin.call('CLIENT', 'KILL', 'ID', sub.id), 1)
  admin.disconnect()
}

test('a subscriber link cut mid-stream: the instance catches up from the history, no gap', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const sender = await connect(t, `${a.url}/ws/r`)
  const member = await connect(t, `${b.url}/ws/r`)
  const total = 60
  for (let i = 0; i < total; i++) {
    sender.send({ type: 'message', room: 'r', data: i })
    if (i === 20) await killSubscriber(t, b.app)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  await eventually(() => messagesOf(member).length >= total, 10000)
  t.same(messagesOf(member).map(f => f.offset), range(1, total), 'every offset once, in order')
  t.equal(member.closeCode, null, 'the socket stays open')
})

test('a link down longer than the history holds: members close with 4010, then resume', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, { HISTORY_SIZE: 5 })
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, { HISTORY_SIZE: 5 })
  const sender = await connect(t, `${a.url}/ws/r`)
  const member = await connect(t, `${b.url}/ws/r`)
  await sender.request({ type: 'message', room: 'r', data: 'before' })
  await member.next('message')
  await killSubscriber(t, b.app)
  // More than HISTORY_SIZE messages before B's subscriber is back (its first retry waits 100 ms).
  for (let i = 0; i < 30; i++) sender.send({ type: 'message', room: 'r', data: i })
  t.equal(await member.closed, 4010, 'resume needed')
  t.same(messagesOf(member).map(f => f.offset), [1], 'nothing out of order before the close')
  t.equal(sender.closeCode, null, 'members of the other instance are untouched')

  const back = await connect(t, `${b.url}/ws`)
  t.match(await back.request({ type: 'join', room: 'r', since: { offset: 1, epoch: messagesOf(member)[0].epoch } }), { recovered: false, offset: 31 })
})

test('Redis down: room messages refused `unavailable` and stored nowhere; restarted empty: a new epoch, in-band', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, redis.url, prefix)
  const b = await clusterApp(t, redis.url, prefix)
  const sender = await connect(t, `${a.url}/ws/r`)
  const localPeer = await connect(t, `${a.url}/ws/r`)
  const remote = await connect(t, `${b.url}/ws/r`)
  const before = await sender.request({ type: 'message', room: 'r', data: 'before' })
  await remote.next('message')

  await redis.stop()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting')
  t.match(await sender.request({ type: 'message', room: 'r', data: 'lost?', key: 'k1' }), { type: 'error', code: 'unavailable' })
  t.match(await sender.request({ type: 'history', room: 'r' }), { type: 'error', code: 'unavailable' })
  const http = await a.app.inject(`${PREFIX}/rooms/r/history`)
  t.equal(http.statusCode, 503)
  t.equal(http.json().error, 'unavailable')
  const offline = await connect(t, `${a.url}/ws`)
  t.match(await offline.request({ type: 'join', room: 'r', since: { offset: 1, epoch: before.epoch } }), { type: 'joined', recovered: false })
  await sender.request({ type: 'message', room: 'r', data: 'typing', transient: true })
  t.equal((await localPeer.next(f => f.type === 'message' && f.transient)).data, 'typing', 'transient messages still reach local members')

  await redis.start() // without its data
  for (const { app } of [a, b]) await eventually(async () => (await statsOf(app)).redis === 'connected', 5000)

  const resumed = await connect(t, `${a.url}/ws`)
  const rejoin = await resumed.request({ type: 'join', room: 'r', since: { offset: 1, epoch: before.epoch } })
  t.match(rejoin, { recovered: false, offset: 0 })
  t.not(rejoin.epoch, before.epoch, 'a new epoch')
  const watcher = await connect(t, `${b.url}/ws/r`)
  const stored = await resumed.request({ type: 'message', room: 'r', data: 'lost?', key: 'k1' })
  const again = await resumed.request({ type: 'message', room: 'r', data: 'lost?', key: 'k1' })
  t.match(stored, { offset: 1, epoch: rejoin.epoch })
  t.same([again.messageId, again.offset], [stored.messageId, stored.offset], 'the resend is stored once')
  await resumed.request({ type: 'message', room: 'r', data: 'after' })
  await watcher.next(f => f.type === 'message' && f.data === 'after')
  t.same(messagesOf(watcher).map(f => [f.data, f.offset]), [['lost?', 1], ['after', 2]])
  // The feeds knew epoch E1 at offset 1; the new Redis has no such history: the members learn it
  // from the epoch of the next message, and stay open (a Redis restart is no reconnect storm).
  for (const client of [sender, localPeer, remote, offline]) {
    const frame = await client.next(f => f.type === 'message' && f.data === 'after')
    t.match(frame, { epoch: rejoin.epoch, offset: 2 })
    t.equal(client.closeCode, null, 'still open')
  }
})
