/**
 * A room whose last local member left stays open for ROOM_LINGER_MS (src/hub/local-rooms.ts): a
 * connection that joins it meanwhile costs Redis no SUBSCRIBE and no history read for its
 * `joined`, and still starts at the room's true position (messages stored while nobody was in it
 * included). Counted with INFO commandstats on a redis-server of this test only. Nobody in it, it
 * is not listed by the stats, and it is closed (unsubscribed) once the time is up.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { ROOM_LINGER_MS } from '../../src/hub/local-rooms.js'
import { redisLayout } from '../../src/redis/layout.js'
import { connect, eventually, listen } from '../helper.js'
import { commandCalls } from '../helpers/command-stats.js'
import { ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

t.test('a room left and joined again within ROOM_LINGER_MS: no subscription, no history read, the right offset', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  // Presence off: its own script call for each join would blur the count (test/presence/batch.test.ts counts those).
  const { url, http } = await listen(t, { REDIS_URL: redis.url, REDIS_CHANNEL_PREFIX: prefix, PRESENCE_ENABLED: 'false' })
  const admin = new Redis(redis.url)
  t.teardown(() => admin.disconnect())
  const channel = redisLayout(prefix).room('r1')
  const calls = async (name: string): Promise<number> => (await commandCalls(admin)).get(name) ?? 0
  const stats = async (): Promise<{ connections: number, rooms: Record<string, number> }> => await (await fetch(`${http}/ws/stats`)).json() as any

  const a = await connect(t, `${url}/ws`)
  t.match(await a.request({ type: 'join', room: 'r1' }), { type: 'joined', offset: 0 })
  t.match(await a.request({ type: 'message', room: 'r1', data: 1 }), { type: 'ack', offset: 1 })
  await a.close()
  await eventually(async () => (await stats()).connections === 0)
  t.same((await stats()).rooms, {}, 'a room nobody is in is not listed')
  // Stored while nobody is in the room here: its feed still follows the history.
  const posted = await fetch(`${http}/rooms/r1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data":2}' })
  t.match(await posted.json(), { offset: 2 })

  await admin.call('CONFIG', 'RESETSTAT')
  const b = await connect(t, `${url}/ws`)
  const joined = await b.request({ type: 'join', room: 'r1' })
  t.match(joined, { type: 'joined', room: 'r1', offset: 2 }, 'joined at the room\'s latest offset')
  b.send({ type: 'message', room: 'r1', data: 3 })
  t.match(await b.next('message'), { room: 'r1', data: 3, offset: 3 }, 'the next message follows it')
  t.equal(await calls('subscribe'), 0, 'no SUBSCRIBE for the join')
  t.equal(await calls('evalsha') + await calls('eval'), 1, 'one script call: the message\'s append, no history read for the join')
  t.same((await stats()).rooms, { r1: 1 })

  await b.close()
  await eventually(async () => (await stats()).connections === 0)
  t.same((await stats()).rooms, {}, 'not listed once empty again')
  t.same(await admin.call('PUBSUB', 'NUMSUB', channel), [channel, 1], 'still subscribed while it lingers')
  await sleep(ROOM_LINGER_MS + 200)
  await eventually(async () => (await admin.call('PUBSUB', 'NUMSUB', channel) as [string, number])[1] === 0)
  t.equal(await calls('unsubscribe'), 1, 'closed once the time was up: one UNSUBSCRIBE')
})
