/**
 * Read state on a 3-master Redis Cluster: a user's cursors on the user's own slot, rooms spread
 * over the shards, and `unread` over 200 rooms answered with one command per shard for the rooms'
 * positions (room-tops.lua reads every room of its shard), plus one for the user's cursors:
 * counted with INFO commandstats on each master. Receipts and counts work as on one Redis.
 */
import t from 'tap'
import { listen } from '../helper.js'
import { AUTH_CONFIG } from '../helpers/auth-tokens.js'
import { commandCalls as allCommandCalls } from '../helpers/command-stats.js'
import { uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet } from '../redis-topologies.js'
import { randomName, sendMany, userSocket } from './helpers.js'

/** Calls per command on one node since its last CONFIG RESETSTAT, leaving out the cluster's own chatter (replication included: a replica's REPLCONF ACKs). */
async function commandCalls (cluster: RedisClusterSet, port: number): Promise<Map<string, number>> {
  const calls = await allCommandCalls(cluster.client(port))
  for (const name of calls.keys()) {
    if (/^(info|config|cluster|ping|command|client|hello|readonly|select|replconf|psync|sync)/.test(name)) calls.delete(name)
  }
  return calls
}

t.test('unread over 200 rooms on a 3-master Cluster: one command per shard for the rooms, one for the cursors', async t => {
  const cluster = await RedisClusterSet.start(t)
  // A long TTL keeps the heartbeats (presence, status leases) out of the counted window.
  const config = { ...AUTH_CONFIG, REDIS_CLUSTER_NODES: cluster.nodes, REDIS_CHANNEL_PREFIX: uniquePrefix(), PRESENCE_TTL_SEC: 600, WS_JOIN_RATE_PER_SEC: 0 }
  const [one, two] = await Promise.all([listen(t, config), listen(t, config)])
  const rooms = Array.from({ length: 200 }, (_, i) => randomName(`c${i}`))
  const busy = rooms.slice(0, 3)
  const reader = await userSocket(t, one.url, 'cluster-reader', busy)
  const writer = await userSocket(t, two.url, 'cluster-writer', busy)
  for (const [i, room] of busy.entries()) await sendMany(writer, room, i + 2)
  for (const room of rooms) t.equal((await reader.request({ type: 'read', room, offset: 0 })).type, 'read')
  await reader.request({ type: 'read', room: busy[0], offset: 1 })
  t.ok(await writer.next(f => f.type === 'read_receipt' && f.room === busy[0] && f.user === 'cluster-reader' && f.offset === 1), 'the receipt crossed instances on its shard')

  const masters = (await cluster.slots()).map(range => range.master)
  t.equal(new Set(masters).size, 3)
  // A first `unread` loads the script on every master (EVALSHA, then EVAL once per node).
  t.equal((await reader.request({ type: 'unread' })).rooms.length, 200)
  await Promise.all(masters.map(port => cluster.client(port).call('CONFIG', 'RESETSTAT')))

  const answer = await reader.request({ type: 'unread' })
  const perMaster = await Promise.all(masters.map(port => commandCalls(cluster, port)))
  const rows = new Map<string, any>(answer.rows ?? answer.rooms.map((r: any) => [r.room, r]))
  t.equal(rows.size, 200, 'every room with a cursor')
  t.match(rows.get(busy[0]), { offset: 2, readOffset: 1, unread: 1 })
  t.match(rows.get(busy[1]), { offset: 3, readOffset: 0, unread: 3 })
  t.match(rows.get(busy[2]), { offset: 4, readOffset: 0, unread: 4 })
  t.match(rows.get(rooms[100]), { offset: 0, readOffset: 0, unread: 0 })

  const evals = perMaster.map(calls => (calls.get('evalsha') ?? 0) + (calls.get('eval') ?? 0))
  t.same(evals, [1, 1, 1], 'one script call per master for the 200 rooms')
  // commandstats counts the commands a script runs too: those are HGET (and, for a room with no
  // history, HSET/DEL/EXPIRE). Anything else a client sent would be a round trip of its own.
  const INSIDE_SCRIPT = new Set(['evalsha', 'eval', 'hget', 'hset', 'del', 'expire'])
  const sent = perMaster.flatMap(calls => [...calls].filter(([name]) => !INSIDE_SCRIPT.has(name)))
  t.same(sent, [['hgetall', 1]], `besides the scripts, one HGETALL on the user's shard (per master: ${JSON.stringify(perMaster.map(c => Object.fromEntries(c)))})`)
  t.same(perMaster.map(calls => calls.get('hget')! > 0), [true, true, true], 'each script read the rooms of its shard')
})
