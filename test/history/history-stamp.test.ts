/**
 * An (epoch, offset) names at most one message, also for an instance that never saw the offsets a
 * Redis lost: with HISTORY_MIN_REPLICAS=0 the append scripts stamp each room with the replication
 * ID of the Redis history that numbered it (append-one.lua), and a room found stamped by another
 * history (a restart, a promoted replica) continues under a new epoch before an offset is handed
 * out. With HISTORY_MIN_REPLICAS >= 1 a failover keeps the room's epoch. Each store here stands for
 * an instance that knows nothing of the room (no `seen`), on real redis-server processes of this
 * file only.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisHistory } from '../../src/history/redis-history.js'
import { redisLayout, type RedisLayout } from '../../src/redis/layout.js'
import { eventually } from '../helper.js'
import { uniquePrefix } from '../redis-helper.js'
import { RedisProcess } from '../helpers/redis-process.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** An instance's history store on `redis`, with a client of its own (closed at teardown). */
function instanceStore (t: Teardown, redis: RedisProcess, layout: RedisLayout, name: string, minReplicas = 0): RedisHistory {
  const client = new Redis(redis.url, { maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  t.teardown(() => client.disconnect())
  let epochs = 0
  return new RedisHistory({ client, layout, size: 100, ttlSec: 600, newEpoch: () => `${name}${++epochs}`, minReplicas, replicaTimeoutMs: 1000 })
}

/** A master and a replica of it, in sync (real processes of this test, stopped at teardown). */
async function masterAndReplica (t: Teardown): Promise<{ master: RedisProcess, replica: RedisProcess }> {
  const master = await RedisProcess.start(t)
  const replica = await RedisProcess.start(t, { replicaOf: master })
  await replica.synced(t)
  return { master, replica }
}

/** The replica is promoted and the old master follows it, as after a Sentinel failover. */
async function failOver (t: Teardown, master: RedisProcess, replica: RedisProcess): Promise<void> {
  await replica.client(t).call('REPLICAOF', 'NO', 'ONE')
  await master.client(t).call('REPLICAOF', '127.0.0.1', String(replica.port))
  await master.synced(t)
}

const head = (data: unknown): string => `{"type":"message","room":"r","data":${JSON.stringify(data)}`
const at = (p: { epoch: string, offset: number }): string => `${p.epoch}/${p.offset}`

t.test('restarted from an older snapshot: the next append, from an instance that saw nothing, is in a new epoch', async (t) => {
  const redis = await RedisProcess.start(t)
  const layout = redisLayout(uniquePrefix())
  const a = instanceStore(t, redis, layout, 'a')
  const named = new Set<string>()
  for (let i = 1; i <= 3; i++) named.add(at(await a.append({ room: 'r', messageId: `a-${i}`, frameHead: head(i) })))
  await redis.client(t).call('SAVE') // the snapshot holds 1..3
  for (let i = 4; i <= 5; i++) named.add(at(await a.append({ room: 'r', messageId: `a-${i}`, frameHead: head(i) })))
  const epoch = [...named][0].split('/')[0]
  t.same([...named], [1, 2, 3, 4, 5].map(i => `${epoch}/${i}`), 'one epoch while the same Redis numbers the room')

  await redis.kill()
  await redis.start() // back with 1..3 of the epoch: 4 and 5 are lost
  t.equal(await redis.client(t).hget(layout.meta('r'), 'top'), '3', 'the restarted Redis holds the epoch up to 3')
  const b = instanceStore(t, redis, layout, 'b')
  const after = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('after') })
  t.notOk(named.has(at(after)), `a fresh (epoch, offset): ${at(after)}`)
  t.match(after, { stored: true, offset: 1, epoch: 'b-1' }, 'a new epoch, named by the message that starts it')
  const next = await a.append({ room: 'r', messageId: 'a-6', frameHead: head(6) })
  t.match(next, { offset: 2, epoch: 'b-1' }, 'the next appends continue the new epoch')
})

t.test('restarted from a snapshot: a read leaves the epoch too, so a history the room had left is never read as new', async (t) => {
  const redis = await RedisProcess.start(t)
  const layout = redisLayout(uniquePrefix())
  const a = instanceStore(t, redis, layout, 'a')
  const old = []
  for (let i = 1; i <= 3; i++) old.push(await a.append({ room: 'r', messageId: `a-${i}`, frameHead: head(i) }))
  await redis.client(t).call('SAVE') // the snapshot holds the room's first epoch
  await a.fence('r', { epoch: old[0].epoch, offset: 10 }) // the room moves on (here: a roll-back found by a feed)
  const moved = await a.append({ room: 'r', messageId: 'a-4', frameHead: head(4) })
  t.not(moved.epoch, old[0].epoch)

  await redis.kill()
  await redis.start() // back in the epoch the room had left
  const b = instanceStore(t, redis, layout, 'b')
  // A feed of the moved epoch catching up: it must not be handed the old epoch's messages as new.
  const caught = await b.since('r', { epoch: moved.epoch, offset: 1 })
  t.equal(caught.recovered, false)
  t.notOk([old[0].epoch, moved.epoch].includes(caught.position.epoch), `a new epoch: ${caught.position.epoch}`)
  t.equal(caught.position.offset, 0, 'holding nothing')
  t.same((await b.page('r', 10, null)).messages, [], 'a page reads none of the old epoch either')
  const resumed = await b.since('r', { epoch: old[0].epoch, offset: 1 })
  t.equal(resumed.recovered, false, 'a resume in the old epoch is told it cannot recover')
  const next = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('next') })
  t.match(next, { stored: true, epoch: caught.position.epoch, offset: 1 }, 'the read\'s epoch continues')
})

t.test('an epoch started by a read, restarted from a snapshot taken before its first message: the next append is in a new epoch', async (t) => {
  const redis = await RedisProcess.start(t)
  const layout = redisLayout(uniquePrefix())
  const reader = instanceStore(t, redis, layout, 'reader')
  const started = (await reader.since('r', null)).position
  t.match(started, { epoch: 'reader1', offset: 0 }, 'the read starts the epoch, empty')
  await redis.client(t).call('SAVE') // the snapshot holds the epoch at top 0
  const a = instanceStore(t, redis, layout, 'a')
  const x = await a.append({ room: 'r', messageId: 'a-1', frameHead: head('x') })
  t.match(x, { stored: true, offset: 1, epoch: 'reader1' })

  await redis.kill()
  await redis.start() // back with the empty epoch: X is lost
  const b = instanceStore(t, redis, layout, 'b')
  const y = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('y') })
  t.not(at(y), at(x), `not ${at(x)} again`)
  t.match(y, { stored: true, offset: 1, epoch: 'b-1' }, 'a new epoch, named by the message that starts it')
})

t.test('HISTORY_MIN_REPLICAS=1: an epoch started by a read and appended durably keeps its epoch across a failover', async (t) => {
  const { master, replica } = await masterAndReplica(t)
  const layout = redisLayout(uniquePrefix())
  const a = instanceStore(t, master, layout, 'a', 1)
  const started = (await a.since('r', null)).position
  const acked = await a.append({ room: 'r', messageId: 'a-1', frameHead: head(1) })
  t.match(acked, { stored: true, offset: 1, epoch: started.epoch })
  t.equal(await replica.client(t).hget(layout.meta('r'), 'rid'), null, 'the durable append removed the read\'s stamp')
  await failOver(t, master, replica)

  const b = instanceStore(t, replica, layout, 'b', 1)
  const after = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('after') })
  t.match(after, { stored: true, offset: 2, epoch: started.epoch }, 'the same epoch continues')
})

t.test('a replica promoted without the last appends: the first append there is in a new epoch; a resend of a message it holds is not stored again', async (t) => {
  const { master, replica } = await masterAndReplica(t)
  const layout = redisLayout(uniquePrefix())
  const a = instanceStore(t, master, layout, 'a')
  const first = await a.append({ room: 'r', messageId: 'a-1', frameHead: head(1), key: 'k1' })
  await a.append({ room: 'r', messageId: 'a-2', frameHead: head(2), key: 'k2' })
  const replicaClient = replica.client(t)
  await eventually(async () => await replicaClient.hget(layout.meta('r'), 'top') === '2', 10000) // 1 and 2 reached the replica
  // Cut off (by leaving, which also promotes it): 3 and 4 are on the master only.
  await replicaClient.call('REPLICAOF', 'NO', 'ONE')
  const lost = [await a.append({ room: 'r', messageId: 'a-3', frameHead: head(3) }), await a.append({ room: 'r', messageId: 'a-4', frameHead: head(4) })]
  t.match(lost, [{ offset: 3, epoch: first.epoch }, { offset: 4, epoch: first.epoch }])
  await master.kill()

  const b = instanceStore(t, replica, layout, 'b')
  const resent = await b.append({ room: 'r', messageId: 'b-resend', frameHead: head(1), key: 'k1' })
  t.match(resent, { stored: false, messageId: 'a-1', offset: 1, epoch: first.epoch }, 'the resend is answered as first stored, across the failover')
  const after = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('after') })
  t.not(after.epoch, first.epoch, `not ${first.epoch}/3 again: ${at(after)}`)
  t.match(after, { stored: true, offset: 1 })
  const late = await b.append({ room: 'r', messageId: 'b-resend-2', frameHead: head(2), key: 'k2' })
  t.match(late, { stored: false, messageId: 'a-2', offset: 2, epoch: first.epoch }, 'a resend after the move is not stored again either')
  t.same((await b.page('r', 10, null)).messages.map(f => JSON.parse(f.toString()).data), ['after'], 'the new epoch holds the one new message')
  t.equal((await b.since('r', { epoch: first.epoch, offset: 2 })).recovered, false, 'a resume in the old epoch is told it cannot recover')
})

t.test('HISTORY_MIN_REPLICAS=1: a failover keeps the room\'s epoch, and a resume from before it recovers', async (t) => {
  const { master, replica } = await masterAndReplica(t)
  const layout = redisLayout(uniquePrefix())
  const a = instanceStore(t, master, layout, 'a', 1)
  const acked = []
  for (let i = 1; i <= 3; i++) acked.push(await a.append({ room: 'r', messageId: `a-${i}`, frameHead: head(i) }))
  await failOver(t, master, replica)

  const b = instanceStore(t, replica, layout, 'b', 1)
  const after = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('after') })
  t.match(after, { stored: true, offset: 4, epoch: acked[0].epoch }, 'the same epoch continues: every acknowledged message survived')
  const resumed = await b.since('r', { epoch: acked[0].epoch, offset: 1 })
  t.equal(resumed.recovered, true)
  t.same(resumed.messages.map(f => JSON.parse(f.toString()).data), [2, 3, 'after'], 'the resume from before the failover replays the rest')
})

t.test('a room numbered by an instance without durable acks is moved on by a durable one after a failover', async (t) => {
  const { master, replica } = await masterAndReplica(t)
  const layout = redisLayout(uniquePrefix())
  const a = instanceStore(t, master, layout, 'a', 0)
  const first = await a.append({ room: 'r', messageId: 'a-1', frameHead: head(1) })
  await eventually(async () => await replica.client(t).hget(layout.meta('r'), 'top') === '1', 10000)
  await failOver(t, master, replica)

  const b = instanceStore(t, replica, layout, 'b', 1)
  const after = await b.append({ room: 'r', messageId: 'b-1', frameHead: head('after') })
  t.match(after, { stored: true, offset: 1, epoch: 'b-1' }, `not ${first.epoch}/2: its top may be an offset acknowledged without a replica`)
})

t.test('the history is read once per group-commit call, not once per message', async (t) => {
  const redis = await RedisProcess.start(t)
  const store = instanceStore(t, redis, redisLayout(uniquePrefix()), 'a')
  await store.append({ room: 'warm-up', messageId: 'w-1', frameHead: head(0) }) // loads the script
  const admin = redis.client(t)
  await admin.call('CONFIG', 'RESETSTAT') // this file's own Redis
  const calls = store.appends.calls
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.append({ room: `room-${i % 10}`, messageId: `m-${i}`, frameHead: head(i) })))
  t.equal(store.appends.calls - calls, 1, 'one script call')
  t.ok(results.every(r => r.stored), 'every message stored')
  t.match(await admin.info('commandstats'), /^cmdstat_info:calls=1,/m, 'one INFO, inside that call')
})
