/**
 * Group commit across instances and on a Redis Cluster: concurrent senders on two instances into
 * one room get every member the same 1..N, each sender's messages in the order sent and acked in
 * that order; on a Cluster one turn's messages are split into one script call per hash slot (a
 * script touches one slot), each room stored whole.
 */
import { test } from 'tap'
import { Cluster } from 'ioredis'
import { connect, eventually } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet } from '../redis-topologies.js'
import { offsetsOf, range } from '../helpers/failover-traffic.js'
import { scriptCalls } from '../helpers/command-stats.js'
import { RedisHistory } from '../../src/history/redis-history.js'
import { redisLayout } from '../../src/redis/layout.js'

test('two instances, two senders each, one room: one order for everyone, each sender\'s kept', async (t) => {
  const prefix = uniquePrefix()
  const instances = [await clusterApp(t, TEST_REDIS_URL, prefix), await clusterApp(t, TEST_REDIS_URL, prefix)]
  const senders = []
  const receivers = []
  for (const { url } of instances) {
    for (let i = 0; i < 2; i++) senders.push(await connect(t, `${url}/ws/r`))
    receivers.push(await connect(t, `${url}/ws/r`))
  }
  const perSender = 60
  for (let seq = 0; seq < perSender; seq++) {
    for (const [s, sender] of senders.entries()) sender.send({ type: 'message', room: 'r', data: { s, seq }, id: `${s}-${seq}` })
  }
  const total = perSender * senders.length
  for (const [i, member] of [...receivers, ...senders].entries()) {
    await eventually(() => offsetsOf(member, 'r').length >= total).catch(() => {})
    t.same(offsetsOf(member, 'r'), range(1, total), `member ${i}: 1..${total}, each once`)
    for (let s = 0; s < senders.length; s++) {
      const seqs = member.frames.filter(f => f.type === 'message' && f.data.s === s).map(f => f.data.seq)
      t.same(seqs, range(0, perSender - 1), `member ${i}: sender ${s}'s messages in the order sent`)
    }
  }
  for (const [s, sender] of senders.entries()) {
    // An ack comes on the command connection's reply, the deliveries on the subscriber's: nothing
    // orders the two, so all deliveries in does not mean all acks in yet.
    await eventually(() => sender.frames.filter(f => f.type === 'ack').length >= perSender).catch(() => {})
    const acks = sender.frames.filter(f => f.type === 'ack')
    // What came instead of a missing ack says why (an `error` frame: the store's call failed).
    const errors = sender.frames.filter(f => f.type === 'error')
    t.equal(acks.length, perSender, `sender ${s}: every message acked`, { errors: errors.slice(0, 3), errorCount: errors.length })
    t.ok(acks.every((a, i) => i === 0 || a.offset > acks[i - 1].offset), `sender ${s}: acked offsets rise in send order`)
  }
})

test('on a Redis Cluster, one turn\'s messages go in one script call per slot', async (t) => {
  const set = await RedisClusterSet.start(t)
  const client = new Cluster(set.nodes.split(',').map(n => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })))
  t.teardown(() => client.disconnect())
  const layout = redisLayout(uniquePrefix(), 'SPUBLISH')
  let epochs = 0
  const store = new RedisHistory({ client, layout, size: 100, ttlSec: 600, newEpoch: () => `e${++epochs}` })
  // Rooms in pairs that share a slot (found by name), and rooms alone in theirs.
  const bySlot = new Map<number, string[]>()
  for (let i = 0; bySlot.size < 12 || [...bySlot.values()].filter(r => r.length >= 2).length < 4; i++) {
    const room = `room-${i}`
    const slot = layout.slot(layout.meta(room))
    const rooms = bySlot.get(slot) ?? []
    if (bySlot.size >= 12 && rooms.length === 0) continue
    rooms.push(room)
    bySlot.set(slot, rooms)
  }
  const rooms = [...bySlot.values()].flatMap(r => r.slice(0, 2))
  const slots = new Set(rooms.map(room => layout.slot(layout.meta(room))))
  const callsBefore = store.appends.calls
  const sends = rooms.flatMap(room => [0, 1, 2].map(seq => store.append({ room, messageId: `${room}-${seq}`, frameHead: `{"type":"message","room":"${room}","data":${seq}` })))
  const results = await Promise.all(sends)
  t.equal(store.appends.calls - callsBefore, slots.size, `${rooms.length} rooms in ${slots.size} slots: ${slots.size} calls`)
  t.same(results.map(r => r.offset), rooms.flatMap(() => [1, 2, 3]), 'each room numbered 1..3 in send order')
  let ran = 0
  for (const port of set.ports) ran += await scriptCalls(set.client(port))
  t.equal(ran, slots.size, 'the masters ran one script call per slot (a NOSCRIPT\'s EVALSHA not counted)')
  for (const room of rooms) {
    const page = await store.page(room, 10, null)
    t.same(page.messages.map(f => JSON.parse(f.toString()).data), [0, 1, 2], `${room}: stored whole, in order`)
  }
})
