/**
 * The webhook queue on a 3-master Redis Cluster: one stream per shard tag, a room's events in the
 * stream of its slot's sixteenth. Rooms whose streams sit on different masters queue their events
 * there (seen on each master), an instance that holds them is SIGKILLed, and the other instance,
 * which reads every stream, takes them over and delivers each once; then it queues and delivers
 * new ones itself.
 */
import t from 'tap'
import calculateSlot from 'cluster-key-slot'
import { createInstance } from '../e2e/helpers/instances.js'
import { eventually } from '../helper.js'
import { uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet, type SlotRange } from '../redis-topologies.js'
import { newWebhookSecret, startReceiver } from '../helpers/webhook-receiver.js'
import { SHARD_STREAMS, shardStreamIndex, webhookStreamKeys } from '../../src/webhooks/queue-streams.js'

const TIMEOUT_MS = 2000
const PER_ROOM = 4

async function post (http: string, room: string, data: unknown): Promise<string> {
  const res = await fetch(`${http}/rooms/${room}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data }) })
  if (res.status !== 201) throw new Error(`send to ${room}: ${res.status} ${await res.text()}`)
  return `msg_${((await res.json()) as { messageId: string }).messageId}`
}

function masterOf (ranges: SlotRange[], key: string): number {
  const slot = calculateSlot(key)
  const range = ranges.find(r => r.from <= slot && slot <= r.to)
  if (range === undefined) throw new Error(`slot ${slot} has no master`)
  return range.master
}

t.test('the Cluster streams: one per sixteenth of the slots; one Redis keeps one stream', async t => {
  const keys = webhookStreamKeys('p', true)
  t.equal(keys.length, SHARD_STREAMS)
  t.same(keys.map(key => Math.floor(calculateSlot(key) / 1024)), Array.from({ length: SHARD_STREAMS }, (_, i) => i))
  t.same(webhookStreamKeys('p', false), ['p:{webhooks}:queue'])
  t.equal(Math.floor(calculateSlot(keys[shardStreamIndex('sales', 'x')]) / 1024), Math.floor(calculateSlot('sales') / 1024), 'a room\'s stream: its slot\'s sixteenth')
})

t.test('rooms on three masters: events queued on each, held by a SIGKILLed instance, delivered by the other', async t => {
  const cluster = await RedisClusterSet.start(t)
  const receiver = await startReceiver(t)
  await receiver.down()
  const prefix = uniquePrefix()
  const env = {
    REDIS_CLUSTER_NODES: cluster.nodes,
    REDIS_CHANNEL_PREFIX: prefix,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SECRET: newWebhookSecret(),
    WEBHOOK_TIMEOUT_MS: TIMEOUT_MS,
    WEBHOOK_EVENTS: 'message.stored',
    HTTP_RATE_LIMIT_PER_MIN: 0
  }
  const doomed = await createInstance(t, { name: 'doomed', env })
  const survivor = await createInstance(t, { name: 'survivor', env })
  await doomed.start()

  const streams = webhookStreamKeys(prefix, true)
  const ranges = await cluster.slots()
  // One room per master, by where its stream lives.
  const rooms = new Map<number, { room: string, stream: string }>()
  for (let i = 0; rooms.size < 3; i++) {
    const room = `shard-${i}`
    const stream = streams[shardStreamIndex(room, '')]
    const master = masterOf(ranges, stream)
    if (!rooms.has(master)) rooms.set(master, { room, stream })
  }
  const ids: string[] = []
  for (const { room } of rooms.values()) {
    for (let i = 0; i < PER_ROOM; i++) ids.push(await post(doomed.http, room, { room, i }))
  }

  for (const [master, { room, stream }] of rooms) {
    const node = cluster.client(master)
    // Held by the doomed instance, retrying: nobody answers.
    await eventually(async () => Number((await node.xpending(stream, 'senders') as [number])[0]) === PER_ROOM)
    const entries = await node.xrange(stream, '-', '+')
    const bodies = entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('b') + 1]))
    t.same(bodies.map(b => b.data.room), Array(PER_ROOM).fill(room), `${room}'s events are in ${stream} on master ${master}`)
  }
  t.equal(rooms.size, 3, 'three streams on three masters')

  await survivor.start()
  await doomed.stop('SIGKILL')
  const killedAt = Date.now()
  await receiver.up()
  await eventually(() => ids.every(id => receiver.received.some(r => r.json?.id === id && r.status === 204)), TIMEOUT_MS + 20_000)
  const last = Math.max(...ids.map(id => receiver.received.find(r => r.json?.id === id)?.at ?? Infinity))
  t.ok(last - killedAt <= TIMEOUT_MS + 10_000, `all delivered ${last - killedAt} ms after the kill (bound: WEBHOOK_TIMEOUT_MS + 10 s)`)
  t.same([...receiver.countsById()].map(([, count]) => count), ids.map(() => 1), 'each once: nothing reached the receiver before the kill')
  for (const [master, { stream }] of rooms) {
    const node = cluster.client(master)
    await eventually(async () => await node.xlen(stream) === 0)
    t.equal(Number((await node.xpending(stream, 'senders') as [number])[0]), 0, `${stream}: acknowledged events leave it`)
  }

  // The survivor queues and sends its own, on every shard.
  const fresh: string[] = []
  for (const { room } of rooms.values()) fresh.push(await post(survivor.http, room, 'after'))
  await eventually(() => fresh.every(id => receiver.received.some(r => r.json?.id === id && r.status === 204)))
  t.pass('new events on every shard delivered by the survivor')
})
