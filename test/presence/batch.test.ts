/**
 * Presence's group commit (src/presence/presence-batch.ts): the joins and leaves of one turn, of
 * many rooms, are one script call on Redis (counted with INFO commandstats on a redis-server of
 * this test only), each announced exactly as a lone one would be, in order; one that fails (a room
 * whose keys are broken) fails alone.
 */
import t from 'tap'
import { setImmediate as turn } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { Connection } from '../../src/hub/connection.js'
import { RedisPresence } from '../../src/presence/redis-presence.js'
import { redisLayout } from '../../src/redis/layout.js'
import { eventually } from '../helper.js'
import { quietLog } from '../helpers/quiet-log.js'
import { ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'
import { scriptCalls } from '../helpers/command-stats.js'
import { conn, presenceOnOwnRedis } from './helpers/own-redis.js'

const member = (id: string): Connection => conn(id, `u-${id}`)

t.test('joins and leaves of 10 rooms in one turn: one script call each way, every event announced in order', async (t) => {
  const { presence, admin, layout, events } = await presenceOnOwnRedis(t, e => `${e.type} ${e.room} ${e.member.connectionId}`)
  // Warm-up: the script is loaded (NOSCRIPT, then EVAL) before counting.
  presence.joined(member('warm'), 'warm-up')
  await eventually(async () => await admin.hlen(layout.presence('warm-up')) === 1)
  await admin.call('CONFIG', 'RESETSTAT') // this test's own Redis

  const rooms = Array.from({ length: 10 }, (_, i) => `room-${i}`)
  const conns = rooms.flatMap(room => [0, 1, 2].map(i => [room, member(`${room}-c${i}`)] as const))
  for (const [room, c] of conns) presence.joined(c, room)
  await eventually(async () => (await Promise.all(rooms.map(room => admin.hlen(layout.presence(room))))).every(n => n === 3))
  t.equal(await scriptCalls(admin), 1, '30 joins in 10 rooms: one script call')

  for (const [room, c] of conns) presence.left(c, room)
  await eventually(() => events.filter(e => e.startsWith('member_left')).length === 30)
  t.equal(await scriptCalls(admin), 2, '30 leaves: one more call')
  const expected = [...conns.map(([room, c]) => `member_joined ${room} ${c.id}`), ...conns.map(([room, c]) => `member_left ${room} ${c.id}`)]
  t.same(events.filter(e => !e.includes('warm-up')), expected, 'each join and leave announced once, in the order they came')
  t.same(await admin.exists(...rooms.map(room => layout.presence(room))), 0, 'every room empty again')
})

t.test('a change that fails in Redis fails alone', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url)
  const admin = new Redis(redis.url)
  t.teardown(() => { client.disconnect(); admin.disconnect() })
  const layout = redisLayout(uniquePrefix())
  const presence = new RedisPresence({ client, layout, instanceId: 'i1', log: quietLog, leaseMs: 60_000 })
  await eventually(() => presence.available)
  await admin.set(layout.presenceLeases('broken'), 'not a zset')
  const outcomes = await Promise.allSettled([
    presence.changes.add({ kind: 'j', room: 'ok-1', connectionId: 'a', member: '{"connectionId":"a","user":null}' }),
    presence.changes.add({ kind: 'j', room: 'broken', connectionId: 'b', member: '{"connectionId":"b","user":null}' }),
    presence.changes.add({ kind: 'l', room: 'ok-2', connectionId: 'nobody', member: '' }),
    presence.changes.add({ kind: 'j', room: 'ok-1', connectionId: 'c', member: '{"connectionId":"c","user":null}' })
  ])
  t.equal(presence.changes.calls, 1, 'one call')
  t.match(outcomes[0], { status: 'fulfilled', value: { announced: true } })
  t.match(outcomes[1], { status: 'rejected', reason: { message: /WRONGTYPE/ } }, 'the broken room\'s join fails, with Redis\'s error')
  t.match(outcomes[2], { status: 'fulfilled', value: { announced: false, untilEarliestMs: -1 } }, 'a leave of no member changes nothing')
  t.match(outcomes[3], { status: 'fulfilled', value: { announced: true } }, 'the change after it is written')
  t.same((await admin.hkeys(layout.presence('ok-1'))).sort(), ['a', 'c'])
  await turn()
})
