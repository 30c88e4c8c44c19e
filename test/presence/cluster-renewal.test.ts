/**
 * A heartbeat's renewal on a 3-master Redis Cluster: a call may only touch keys of the shard it
 * runs on (presence-renew.lua is flagged allow-cross-slot-keys), so the rooms are grouped by the
 * shard the client's slot map names (renewal.ts `roomsByShard`): one call per shard, whatever the
 * number of slots, every lease renewed, none refused. And when the map is stale (a slot moved since
 * it was read), the room that is no longer on the shard is renewed in a call of its own.
 */
import tap, { type Test } from 'tap'
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

/** One 3-master Cluster for the file's tests (each its own prefix): starting one takes ~10 s. */
let oneCluster: Promise<RedisClusterSet> | null = null

/** A presence on the Cluster with one member in each of 33 rooms of 31 slots. */
async function presenceOnCluster (t: Test) {
  const cluster = await (oneCluster ??= RedisClusterSet.start(tap))
  const client = new Cluster(cluster.ports.map(port => ({ host: '127.0.0.1', port })))
  t.teardown(() => client.disconnect())
  const layout = redisLayout(uniquePrefix(), 'SPUBLISH')
  const presence = new RedisPresence({ client, layout, instanceId: 'i1', log: quietLog, leaseMs: 60_000 })
  await eventually(() => presence.available)

  const { shared, others } = roomsOfSlots()
  const rooms = [...shared, ...others]
  for (const [i, room] of rooms.entries()) presence.joined(conn(`c${i}`), room)
  const leases = async (): Promise<number[]> => Promise.all(rooms.map(async (room, i) => Number(await client.zscore(layout.presenceLeases(room), `c${i}`))))
  await eventually(async () => (await leases()).every(lease => lease > 0))
  const ranges = await cluster.slots()
  const masterOf = (room: string): number => (ranges.find(r => r.from <= calculateSlot(room) && calculateSlot(room) <= r.to) as { master: number }).master
  /** Script calls every master ran since now. */
  const countCalls = async (): Promise<() => Promise<number>> => {
    const masters = ranges.map(range => range.master)
    await Promise.all(masters.map(port => cluster.client(port).call('CONFIG', 'RESETSTAT')))
    return async () => (await Promise.all(masters.map(async port => scriptCallsOf(await commandCalls(cluster.client(port)))))).reduce((a, b) => a + b, 0)
  }
  return { client, presence, rooms, leases, masterOf, countCalls }
}

tap.test('rooms of many slots of one shard share a call, and every lease is renewed', async (t) => {
  const { presence, rooms, leases, masterOf, countCalls } = await presenceOnCluster(t)
  const before = await leases()
  await new Promise(resolve => setTimeout(resolve, 20))
  const calls = await countCalls()

  await presence.renew(true, 6000)

  const after = await leases()
  t.same(after.map((lease, i) => lease > before[i]), rooms.map(() => true), 'every room\'s lease was pushed back')
  const shards = new Set(rooms.map(masterOf)).size
  t.equal(await calls(), shards, `${rooms.length} rooms of 31 slots on ${shards} shards: one call per shard (it was one per slot)`)
  t.equal(presence.stats().reasserted, 0, 'no lease found missing')
})

tap.test('a room whose slot the client maps to the wrong shard is renewed in a call of its own', async (t) => {
  const { client, presence, rooms, leases, masterOf, countCalls } = await presenceOnCluster(t)
  const before = await leases()
  await new Promise(resolve => setTimeout(resolve, 20))
  const calls = await countCalls()
  // The client's map says one room's slot is on another shard (as after a slot moved): its call
  // there cannot touch the room's keys. (Set last: a command on the room's keys, answered MOVED,
  // puts the map right.)
  const moved = rooms[rooms.length - 1]
  const elsewhere = rooms.find(room => masterOf(room) !== masterOf(moved)) as string
  client.slots[calculateSlot(moved)] = client.slots[calculateSlot(elsewhere)]

  await presence.renew(true, 6000)

  const after = await leases()
  t.same(after.map((lease, i) => lease > before[i]), rooms.map(() => true), 'every room\'s lease was pushed back, the moved one\'s too')
  t.ok(await calls() > new Set(rooms.map(masterOf)).size, 'the moved room took a call of its own')
})
