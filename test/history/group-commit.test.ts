/**
 * Group commit (src/redis/turn-batch.ts, append-batch.lua): the appends of one event-loop turn go
 * to Redis in one script call, each message keeping what a lone append gives it (its room's order,
 * its idempotency key, the rollback check, an error of its own). Counted on a redis-server of this
 * test only, with INFO commandstats: the script calls Redis ran, not what the client thinks it sent.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisHistory } from '../../src/history/redis-history.js'
import type { AppendResult } from '../../src/history/history-store.js'
import { redisLayout } from '../../src/redis/layout.js'
import { scriptCalls } from '../helpers/command-stats.js'
import { ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

async function privateStore (t: Teardown, appendBatch?: { items: number, bytes: number }) {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url)
  const admin = new Redis(redis.url)
  t.teardown(() => { client.disconnect(); admin.disconnect() })
  const layout = redisLayout(uniquePrefix())
  let epochs = 0
  const store = new RedisHistory({ client, layout, size: 100, ttlSec: 600, newEpoch: () => `e${++epochs}`, appendBatch })
  // The script is loaded (NOSCRIPT, then EVAL) before counting starts.
  await store.append({ room: 'warm-up', messageId: 'w-1', frameHead: '{"type":"message","room":"warm-up","data":0' })
  await admin.call('CONFIG', 'RESETSTAT') // this test's own Redis
  return { store, admin, layout }
}

const head = (room: string, data: unknown): string => `{"type":"message","room":"${room}","data":${JSON.stringify(data)}`

t.test('the messages of 50 rooms sent in one turn are stored by one script call', async (t) => {
  const { store, admin } = await privateStore(t)
  const callsBefore = store.appends.calls
  const rooms = Array.from({ length: 50 }, (_, i) => `room-${i}`)
  const results = await Promise.all(rooms.map((room, i) => store.append({ room, messageId: `m-${i}`, frameHead: head(room, i) })))
  t.equal(await scriptCalls(admin), 1, 'Redis ran one script call')
  t.equal(store.appends.calls - callsBefore, 1, 'the store sent one')
  t.ok(results.every(r => r.stored && r.offset === 1), 'each message stored, first of its room')
  for (const [i, room] of rooms.entries()) {
    const page = await store.page(room, 10, null)
    t.same(page.messages.map(f => JSON.parse(f.toString()).data), [i], `${room} holds its own message`)
  }
})

t.test('a lone message leaves at the end of its turn, in a call of its own', async (t) => {
  const { store, admin } = await privateStore(t)
  const first = await store.append({ room: 'alone', messageId: 'a-1', frameHead: head('alone', 1) })
  const second = await store.append({ room: 'alone', messageId: 'a-2', frameHead: head('alone', 2) })
  t.match([first, second], [{ stored: true, offset: 1 }, { stored: true, offset: 2 }])
  t.equal(await scriptCalls(admin), 2, 'one call per awaited message')
})

t.test('interleaved rooms in one turn: each room\'s messages numbered in the order sent', async (t) => {
  const { store, admin } = await privateStore(t)
  const sends: Array<Promise<AppendResult>> = []
  for (let seq = 0; seq < 20; seq++) {
    for (const room of ['a', 'b', 'c']) sends.push(store.append({ room, messageId: `${room}-${seq}`, frameHead: head(room, seq) }))
  }
  const results = await Promise.all(sends)
  t.equal(await scriptCalls(admin), 1, 'one call for the 60')
  for (const [r, room] of ['a', 'b', 'c'].entries()) {
    t.same(results.filter((_, i) => i % 3 === r).map(x => x.offset), Array.from({ length: 20 }, (_, i) => i + 1), `${room}: offsets 1..20 in send order`)
    const page = await store.page(room, 100, null)
    t.same(page.messages.map(f => JSON.parse(f.toString()).data), Array.from({ length: 20 }, (_, i) => i), `${room}: stored in send order`)
  }
})

t.test('a burst past the call limits is split into several calls, in order', async (t) => {
  const { store, admin } = await privateStore(t, { items: 4, bytes: 1024 * 1024 })
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.append({ room: 'r', messageId: `m-${i}`, frameHead: head('r', i) })))
  t.same(results.map(r => r.offset), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  t.equal(await scriptCalls(admin), 3, '4 + 4 + 2')
})

t.test('one failing message fails alone; a rolled-back room and a repeated key keep their meaning', async (t) => {
  const { store, admin, layout } = await privateStore(t)
  await store.append({ room: 'moved', messageId: 'mv-1', frameHead: head('moved', 0) })
  const before = await store.since('moved', null)
  // A room whose meta key is not a hash: every command of its append fails (WRONGTYPE).
  await admin.set(layout.meta('broken'), 'not a hash')
  await admin.call('CONFIG', 'RESETSTAT')
  const sends = [
    store.append({ room: 'ok-1', messageId: 'k-1', frameHead: head('ok-1', 1) }),
    store.append({ room: 'broken', messageId: 'b-1', frameHead: head('broken', 1) }),
    // This instance saw offset 5 of the room's epoch, Redis holds 1: rolled back, a new epoch.
    store.append({ room: 'moved', messageId: 'mv-2', frameHead: head('moved', 1), seen: { epoch: before.position.epoch, offset: 5 } }),
    store.append({ room: 'ok-2', messageId: 'k-2', frameHead: head('ok-2', 1), key: 'same' }),
    store.append({ room: 'ok-2', messageId: 'k-3', frameHead: head('ok-2', 2), key: 'same' })
  ]
  const outcomes = await Promise.allSettled(sends)
  t.equal(await scriptCalls(admin), 1, 'all five in one call')
  t.match(outcomes[0], { status: 'fulfilled', value: { stored: true, offset: 1 } }, 'the message before it is stored')
  t.match(outcomes[1], { status: 'rejected', reason: { message: /WRONGTYPE/ } }, 'the broken room\'s message fails, with Redis\'s error')
  t.match(outcomes[2], { status: 'fulfilled', value: { stored: true, offset: 1, epoch: 'mv-2' } }, 'the rolled-back room starts a new epoch')
  t.match(outcomes[3], { status: 'fulfilled', value: { stored: true, offset: 1, messageId: 'k-2' } })
  t.match(outcomes[4], { status: 'fulfilled', value: { stored: false, offset: 1, messageId: 'k-2' } }, 'the repeated key answers the first message')
  t.equal((await store.page('ok-2', 10, null)).messages.length, 1, 'stored once')
})
