/**
 * On a Redis Cluster, `/ready` 200 means every global channel is heard: a broadcast and a server
 * API disconnect sent through instance A right after both instances answered 200 reach a socket
 * on B. Repeated with fresh instances and a fresh prefix each time (one cluster for all of them:
 * it is slow to start), since the miss this guards against came once in two fresh starts.
 *
 * Why it was missed: a classic PUBLISH goes to whichever master the client picks and reaches the
 * master holding B's subscription only over the cluster bus, which forwards it best-effort: not
 * to a node whose bus link is down or not made yet (a fresh cluster, a link Redis reset after half
 * its node timeout of silence). So each round also resets the bus links just before sending.
 */
import { test } from 'tap'
import { connect, listen, PREFIX } from '../helper.js'
import { statsOf, uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet } from '../redis-topologies.js'
import { redisLayout, type RedisLayout } from '../../src/redis/layout.js'

const API_KEY = 'cluster-ready-api-key-0123456789abcdef0123'
const ROUNDS = 6
/** What the issue measured against: a broadcast must arrive well within this. */
const DELIVERY_MS = 3000

let rooms = 0

/** A fresh room whose slot's master holds neither global channel of `layout`. */
async function roomAwayFromGlobals (cluster: RedisClusterSet, layout: RedisLayout, tag: string): Promise<string> {
  const globals = new Set(await Promise.all([layout.all, layout.control].map(async channel => (await cluster.masterOf(layout.slot(channel))).master)))
  for (;;) {
    const room = `${tag}-${++rooms}`
    if (!globals.has((await cluster.masterOf(layout.slot(layout.room(room)))).master)) return room
  }
}

async function shardSubscribers (cluster: RedisClusterSet, master: number, channel: string): Promise<number> {
  return Number((await cluster.client(master).call('PUBSUB', 'SHARDNUMSUB', channel) as [string, number])[1])
}

test('every global channel is heard from the first /ready 200, on a Redis Cluster', async (t) => {
  const cluster = await RedisClusterSet.start(t, { busProxies: true })
  for (let round = 1; round <= ROUNDS; round++) {
    await t.test(`fresh instances, round ${round}`, async (t) => {
      const prefix = uniquePrefix()
      const layout = redisLayout(prefix, 'SPUBLISH')
      const config = { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_CHANNEL_PREFIX: prefix, WS_RATE_LIMIT_PER_SEC: 0, API_KEY }
      const [a, b] = await Promise.all([listen(t, config), listen(t, config)])
      for (const app of [a, b]) t.equal((await app.app.inject(`${PREFIX}/ready`)).statusCode, 200, '/ready answers 200')
      // Ready means a subscriber connection on every master, not only those of the global
      // channels: a room on any shard is then subscribed before its `joined`.
      for (const { master } of await cluster.slots()) {
        const names = await cluster.client(master).call('CLIENT', 'LIST') as string
        for (const app of [a, b]) {
          const name = `chat-api:${(await statsOf(app.app)).instanceId}:sub`
          t.ok(names.includes(`name=${name} `), `master ${master} holds a subscriber connection of each instance`)
        }
      }
      const onB = await connect(t, `${b.url}/ws`)
      const onA = await connect(t, `${a.url}/ws`)
      for (const busCut of [false, true]) {
        const gone = await connect(t, `${b.url}/ws`)
        const tag = `${round}${busCut ? ' after a bus cut' : ''}`
        // Well under the node timeout (2 s): no node is failed over meanwhile.
        if (busCut) cluster.cutBus(800)
        // Through A's socket and through the server API.
        onA.send({ type: 'broadcast', data: { tag, via: 'socket' } })
        const api = await a.app.inject({ method: 'POST', url: `${PREFIX}/broadcast`, headers: { 'x-api-key': API_KEY }, payload: { data: { tag, via: 'api' } } })
        t.equal(api.statusCode, 201, 'the server API takes the broadcast')
        // A control message: a disconnect asked of A for a connection B holds.
        const res = await a.app.inject({ method: 'POST', url: `${PREFIX}/connections/${gone.frames[0].connectionId}/disconnect`, headers: { 'x-api-key': API_KEY }, payload: {} })
        t.equal(res.statusCode, 202, 'the disconnect is taken')
        for (const via of ['socket', 'api']) {
          const frame = await onB.next(f => f.type === 'broadcast' && f.data.tag === tag && f.data.via === via, DELIVERY_MS).catch(() => null)
          t.same(frame?.data, { tag, via }, `round ${tag}: B hears A's broadcast (${via})`)
        }
        const code = await Promise.race([gone.closed, new Promise(resolve => setTimeout(() => resolve('still open'), DELIVERY_MS))])
        t.equal(code, 4003, `round ${tag}: B closes its connection for A`)
        // A presence event: a join on B is heard by a member on A. The room is on a master that
        // holds no global channel, so `joined` must wait for a subscription on a shard link of its
        // own: once A has its `joined`, that master counts A's subscription.
        const room = await roomAwayFromGlobals(cluster, layout, busCut ? 'cut' : 'plain')
        const roomMaster = await cluster.masterOf(layout.slot(layout.room(room)))
        const before = await shardSubscribers(cluster, roomMaster.master, layout.room(room))
        await onA.request({ type: 'join', room })
        t.equal(await shardSubscribers(cluster, roomMaster.master, layout.room(room)), before + 1, `round ${tag}: A is subscribed to the room once joined`)
        if (busCut) cluster.cutBus(800)
        await onB.request({ type: 'join', room })
        const joined = await onA.next(f => f.type === 'member_joined' && f.room === room, DELIVERY_MS).catch(() => null)
        t.equal(joined?.member?.connectionId, onB.frames[0].connectionId, `round ${tag}: A hears B join`)
      }
    })
  }
})
