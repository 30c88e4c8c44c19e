/**
 * A heartbeat's renewal on a 3-master Redis Cluster: a script call may only touch keys of one hash
 * slot, so the rooms are grouped by slot (renewal.ts `roomsBySlot`) and a call takes rooms of one
 * slot only. Rooms that share a slot share a call; every lease is renewed and no call is refused
 * (a call across slots would fail with CROSSSLOT, and the heartbeat would reject).
 */
import t from 'tap'
import calculateSlot from 'cluster-key-slot'
import { Cluster } from 'ioredis'
import { RedisPresence } from '../../src/presence/redis-presence.js'
import { redisLayout } from '../../src/redis/layout.js'
import { eventually } from '../helper.js'
import { commandCalls, scriptCallsOf } from '../helpers/command-stats.js'
import { quietLog } from '../helpers/quiet-log.js'
import { uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet } from '../redis-topologies.js'
import { conn } from './helpers/own-redis.js'

/** Three room names of one slot (a room's keys are tagged with its name), and 30 of other slots. */
function roomsOfSlots (): { shared: string[], others: string[] } {
  const bySlot = new Map<number, string[]>()
  for (let i = 0; ; i++) {
    const room = `r${i}`
    const names = bySlot.get(calculateSlot(room)) ?? []
    names.push(room)
    bySlot.set(calculateSlot(room), names)
    if (names.length === 3) {
      const others = [...bySlot.values()].filter(group => group !== names).map(group => group[0]).slice(0, 30)
      if (others.length === 30) return { shared: names, others }
    }
  }
}

t.test('rooms of one slot share a call, rooms of other slots have their own, and every lease is renewed', async (t) => {
  const cluster = await RedisClusterSet.start(t)
  const client = new Cluster(cluster.ports.map(port => ({ host: '127.0.0.1', port })))
  t.teardown(() => client.disconnect())
  const layout = redisLayout(uniquePrefix(), 'SPUBLISH')
  const presence = new RedisPresence({ client, layout, instanceId: 'i1', log: quietLog, leaseMs: 60_000 })
  await eventually(() => presence.available)

  const { shared, others } = roomsOfSlots()
  const rooms = [...shared, ...others]
  for (const [i, room] of rooms.entries()) presence.joined(conn(`c${i}`), room)
  const leaseOf = async (i: number): Promise<number> => Number(await client.zscore(layout.presenceLeases(rooms[i]), `c${i}`))
  await eventually(async () => (await Promise.all(rooms.map((_, i) => leaseOf(i)))).every(lease => lease > 0))
  const before = await Promise.all(rooms.map((_, i) => leaseOf(i)))
  await new Promise(resolve => setTimeout(resolve, 20))
  const masters = (await cluster.slots()).map(range => range.master)
  await Promise.all(masters.map(port => cluster.client(port).call('CONFIG', 'RESETSTAT')))

  await presence.renew(true, 6000)

  const after = await Promise.all(rooms.map((_, i) => leaseOf(i)))
  t.same(after.map((lease, i) => lease > before[i]), rooms.map(() => true), 'every room\'s lease was pushed back')
  const calls = (await Promise.all(masters.map(async port => scriptCallsOf(await commandCalls(cluster.client(port)))))).reduce((a, b) => a + b, 0)
  t.equal(calls, 1 + others.length, `${rooms.length} rooms of ${1 + others.length} slots: one call per slot`)
  t.equal(presence.stats().reasserted, 0, 'no lease found missing')
})
