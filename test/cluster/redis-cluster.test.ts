/**
 * chat-api on a real Redis Cluster (3 masters + 3 replicas, started by this file): fan-out and
 * history across two instances, each room's channel a sharded channel on the shard that owns the
 * room only, and failovers (a manual CLUSTER FAILOVER, then a master SIGKILLed) with concurrent
 * senders on both instances: delivery is back within 10 s and every member still gets 1..N.
 */
import { test } from 'tap'
import { connect, eventually, listen, PREFIX } from '../helper.js'
import { statsOf, uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet, type SlotRange } from '../redis-topologies.js'
import { acrossFailover, offsetsOf, range } from '../helpers/failover-traffic.js'
import { redisLayout } from '../../src/redis/layout.js'

test('chat-api on a Redis Cluster', async (t) => {
  const cluster = await RedisClusterSet.start(t)
  const prefix = uniquePrefix()
  const layout = redisLayout(prefix, 'SPUBLISH')
  const config = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_CHANNEL_PREFIX: prefix, WS_RATE_LIMIT_PER_SEC: 0 }
  const a = await listen(t, config)
  const b = await listen(t, config)

  // Two rooms on each shard: room names are picked by the slot their channel hashes to.
  const ranges = await cluster.slots()
  const shardOf = (room: string) => ranges.findIndex(r => r.from <= layout.slot(layout.room(room)) && layout.slot(layout.room(room)) <= r.to)
  const rooms: string[] = []
  for (let i = 0; rooms.length < 6; i++) {
    const room = `room-${i}`
    if (rooms.filter(r => shardOf(r) === shardOf(room)).length < 2) rooms.push(room)
  }
  /** A room no test used yet, on `shard`. */
  const freshRoom = (shard: number): string => {
    for (let i = 0; ; i++) if (shardOf(`fresh-${shard}-${i}`) === shard) return `fresh-${shard}-${i}`
  }

  await t.test('fan-out and history across two instances, in every shard', async (t) => {
    for (const app of [a, b]) {
      t.equal((await statsOf(app.app)).redis, 'connected')
      t.equal((await app.app.inject(`${PREFIX}/ready`)).statusCode, 200)
    }
    const onA = await Promise.all(rooms.map(room => connect(t, `${a.url}/ws/${room}`)))
    const onB = await Promise.all(rooms.map(room => connect(t, `${b.url}/ws/${room}`)))
    const lobby = await connect(t, `${b.url}/ws`)
    // Both instances send at once into every room: each member gets 1..N of its room, in order.
    const perSender = 40
    rooms.forEach((room, r) => {
      for (let i = 0; i < perSender; i++) {
        onA[r].send({ type: 'message', room, data: { from: 'a', i } })
        onB[r].send({ type: 'message', room, data: { from: 'b', i } })
      }
    })
    for (const [r, room] of rooms.entries()) {
      for (const member of [onA[r], onB[r]]) {
        await eventually(() => offsetsOf(member, room).length >= 2 * perSender, 10000).catch(() => {})
        t.same(offsetsOf(member, room), range(1, 2 * perSender), `${room}: 1..${2 * perSender} on both instances`)
        const fromA = member.frames.filter(f => f.type === 'message' && f.data.from === 'a').map(f => f.data.i)
        t.same(fromA, range(0, perSender - 1), `${room}: A's messages in the order sent`)
      }
    }
    // History is shared: a late joiner on B reads what A and B stored.
    const late = await connect(t, `${b.url}/ws`)
    const page = await late.request({ type: 'history', room: rooms[0], limit: 5 })
    t.same(page.messages.map((m: { offset: number }) => m.offset), range(2 * perSender - 4, 2 * perSender))
    // A global broadcast still reaches every socket of both instances.
    await onA[0].request({ type: 'broadcast', data: { tag: 'everyone' } })
    await lobby.next(f => f.type === 'broadcast' && f.data.tag === 'everyone')
  })

  await t.test('presence on every shard: lists, member events across instances, /cluster', async (t) => {
    const idOf = (client: { frames: any[] }): string => client.frames[0].connectionId // its welcome
    for (const room of rooms) {
      const first = await connect(t, `${a.url}/ws/${room}`)
      const second = await connect(t, `${b.url}/ws/${room}`)
      const joined = await first.next(f => f.type === 'member_joined' && f.member.connectionId === idOf(second))
      t.equal(joined.room, room, `${room}: A hears B's join through the room's shard`)
      // The previous test's sockets of this room may still be leaving: wait for exactly these two.
      let list: any
      await eventually(async () => (list = await second.request({ type: 'presence', room })).count === 2, 5000).catch(() => {})
      t.same(list.members.map((m: { connectionId: string }) => m.connectionId).sort(), [idOf(first), idOf(second)].sort(), `${room}: both listed`)
      await second.close()
      const left = await first.next(f => f.type === 'member_left' && f.member.connectionId === idOf(second))
      t.equal(left.room, room, `${room}: and B's leave`)
    }
    const instances = (await a.app.inject(`${PREFIX}/cluster`)).json().instances
    t.same(instances.map((i: { instanceId: string }) => i.instanceId).sort(),
      [(await statsOf(a.app)).instanceId, (await statsOf(b.app)).instanceId].sort(), '/cluster lists both instances')
  })

  await t.test('each channel is a sharded channel on its own shard only', async (t) => {
    for (const room of rooms) {
      await connect(t, `${a.url}/ws/${room}`)
      await connect(t, `${b.url}/ws/${room}`)
    }
    for (const [shard, r] of ranges.entries()) {
      const mine = rooms.filter(room => shardOf(room) === shard).map(room => layout.room(room)).sort()
      t.equal(mine.length, 2)
      const shardChannels = (await cluster.client(r.master).call('PUBSUB', 'SHARDCHANNELS', `${prefix}:room:*`) as string[]).sort()
      t.same(shardChannels, mine, `shard ${shard} carries exactly its own rooms`)
      t.equal(Number((await cluster.client(r.master).call('PUBSUB', 'SHARDNUMSUB', mine[0]) as [string, number])[1]), 2, 'both instances subscribe it there')
      const classic = await cluster.client(r.master).call('PUBSUB', 'CHANNELS', `${prefix}:*`) as string[]
      t.same(classic, [], 'nothing on classic pub/sub: it would depend on the cluster bus')
    }
    // The global channels are sharded too, each on the master of its slot, held by both instances.
    for (const channel of [layout.all, layout.control]) {
      const owner = await cluster.masterOf(layout.slot(channel))
      t.same(await cluster.client(owner.master).call('PUBSUB', 'SHARDCHANNELS', channel), [channel], `${channel} is sharded on its shard`)
      t.equal(Number((await cluster.client(owner.master).call('PUBSUB', 'SHARDNUMSUB', channel) as [string, number])[1]), 2, 'both instances subscribe it there')
    }
  })

  await t.test('a room\'s slot migrated to another master: subscriptions follow it; the room goes on in a new epoch', async (t) => {
    const room = freshRoom(2)
    const slot = layout.slot(layout.room(room))
    const from = await cluster.masterOf(slot)
    const to = (await cluster.slots()).find(r => r.master !== from.master) as SlotRange
    const source = cluster.client(from.master)
    const target = cluster.client(to.master)
    const [sourceId, targetId] = await Promise.all([source.call('CLUSTER', 'MYID'), target.call('CLUSTER', 'MYID')]) as string[]
    await acrossFailover(t, [a, b], room, async () => {
      // The steps of `redis-cli --cluster reshard`, for this one slot.
      await target.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId)
      await source.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId)
      for (;;) {
        const keys = await source.call('CLUSTER', 'GETKEYSINSLOT', slot, 100) as string[]
        if (keys.length === 0) break
        await source.call('MIGRATE', '127.0.0.1', to.master, '', 0, 5000, 'KEYS', ...keys)
      }
      for (const r of await cluster.slots()) await cluster.client(r.master).call('CLUSTER', 'SETSLOT', slot, 'NODE', targetId)
    }, { lossy: true }) // the new master cannot tell the room's keys came whole: a new epoch (append-one.lua)
    t.equal((await cluster.masterOf(slot)).master, to.master, 'the slot is on the other master now')
    t.same(await target.call('PUBSUB', 'SHARDCHANNELS', layout.room(room)), [layout.room(room)], 'the new owner carries the room')
    t.same(await source.call('PUBSUB', 'SHARDCHANNELS', layout.room(room)), [], 'the old one no longer does')
  })

  await t.test('CLUSTER FAILOVER on a replica: the room moves to the new master and goes on in a new epoch', async (t) => {
    const room = freshRoom(0)
    const before = await cluster.masterOf(layout.slot(layout.room(room)))
    await acrossFailover(t, [a, b], room, async () => {
      t.equal(await cluster.client(before.replicas[0]).call('CLUSTER', 'FAILOVER'), 'OK')
      await eventually(async () => (await cluster.masterOf(layout.slot(layout.room(room)))).master === before.replicas[0], 10000)
    }, { lossy: true }) // nothing is lost, but the new master cannot tell: a new epoch (append-one.lua)
    const shardChannels = await cluster.client(before.replicas[0]).call('PUBSUB', 'SHARDCHANNELS', layout.room(room)) as string[]
    t.same(shardChannels, [layout.room(room)], 'the new master carries the room')
    t.equal(Number((await cluster.client(before.replicas[0]).call('PUBSUB', 'SHARDNUMSUB', layout.room(room)) as [string, number])[1]), 2, 'both instances resubscribed there')
  })

  await t.test('a master SIGKILLed: its replica takes over, delivery back within 10 s, offsets contiguous within each epoch', async (t) => {
    const room = freshRoom(1)
    const before = await cluster.masterOf(layout.slot(layout.room(room)))
    const { reconnecting, notReady } = await acrossFailover(t, [a, b], room, async () => {
      cluster.kill(before.master)
    }, { lossy: true })
    t.ok(reconnecting, 'stats said reconnecting while the shard was lost')
    t.ok(notReady, '/ready said 503 meanwhile')
    t.equal((await cluster.masterOf(layout.slot(layout.room(room)))).master, before.replicas[0], 'the replica is the master now')
    t.equal((await a.app.inject(`${PREFIX}/ready`)).statusCode, 200)
  })
})
