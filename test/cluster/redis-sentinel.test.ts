/**
 * chat-api behind Redis Sentinel (a master, its replica and 3 sentinels, started by this file):
 * fan-out and history across two instances, then the master SIGKILLed while both instances send:
 * both connections of each instance follow the master the sentinels promote, delivery is back
 * within 10 s and every member still gets 1..N.
 */
import { test } from 'tap'
import { connect, eventually, listen, PREFIX } from '../helper.js'
import { clientsNamed, statsOf, uniquePrefix } from '../redis-helper.js'
import { SentinelSet } from '../redis-topologies.js'
import { acrossFailover, offsetsOf, range } from '../helpers/failover-traffic.js'

test('chat-api behind Redis Sentinel', async (t) => {
  const sentinel = await SentinelSet.start(t, 'chat-master')
  const prefix = uniquePrefix()
  const config = { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: 'chat-master', REDIS_CHANNEL_PREFIX: prefix, WS_RATE_LIMIT_PER_SEC: 0 }
  const a = await listen(t, config)
  const b = await listen(t, config)

  await t.test('fan-out and history across two instances on the master Sentinel names', async (t) => {
    for (const app of [a, b]) {
      t.equal((await statsOf(app.app)).redis, 'connected')
      // Both connections of the instance are on the master.
      const named = await clientsNamed(sentinel.client(sentinel.master), (await statsOf(app.app)).instanceId)
      t.same(named.map(c => c.name.split(':').pop()).sort(), ['pub', 'sub'])
    }
    const onA = await connect(t, `${a.url}/ws/r`)
    const onB = await connect(t, `${b.url}/ws/r`)
    const perSender = 100
    for (let i = 0; i < perSender; i++) {
      onA.send({ type: 'message', room: 'r', data: { from: 'a', i } })
      onB.send({ type: 'message', room: 'r', data: { from: 'b', i } })
    }
    for (const member of [onA, onB]) {
      await eventually(() => offsetsOf(member, 'r').length >= 2 * perSender, 10000)
      t.same(offsetsOf(member, 'r'), range(1, 2 * perSender), '1..N on both instances')
    }
    const page = await onB.request({ type: 'history', room: 'r', limit: 3 })
    t.same(page.messages.map((m: { offset: number }) => m.offset), range(2 * perSender - 2, 2 * perSender))
  })

  await t.test('the master SIGKILLed: both connections follow the promoted replica, nothing lost unseen', async (t) => {
    const { reconnecting, notReady } = await acrossFailover(t, [a, b], 'failover', async () => {
      sentinel.kill(sentinel.master)
      await eventually(async () => await sentinel.currentMaster() === sentinel.replica, 10000)
    }, { lossy: true })
    t.ok(reconnecting, 'stats said reconnecting while the master was gone')
    t.ok(notReady, '/ready said 503 meanwhile')
    for (const app of [a, b]) {
      const named = await clientsNamed(sentinel.client(sentinel.replica), (await statsOf(app.app)).instanceId)
      t.same(named.map(c => c.name.split(':').pop()).sort(), ['pub', 'sub'], 'publisher and subscriber on the new master')
      t.equal((await app.app.inject(`${PREFIX}/ready`)).statusCode, 200)
    }
  })
})
