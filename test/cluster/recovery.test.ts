import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { connect, eventually, PREFIX } from '../helper.js'
import { adminClient, clientsNamed, clusterApp, numsub, statsOf, TEST_REDIS_URL, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

async function redisState (app: FastifyInstance): Promise<string> {
  return (await statsOf(app)).redis
}

test('a killed subscriber connection comes back with every room resubscribed', async (t) => {
  const prefix = uniquePrefix()
  const admin = adminClient(t)
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const sender = await connect(t, `${a.url}/ws/ops`)
  const receiver = await connect(t, `${b.url}/ws/ops?room=dev`)

  const subName = `${(await statsOf(b.app)).instanceId}:sub`
  const [before] = await clientsNamed(admin, subName)
  t.equal(before.sub, 4, 'B listens to the global and control channels, ops and dev')
  // Only B's subscriber: the shared Redis serves other tests too.
  t.equal(await admin.call('CLIENT', 'KILL', 'ID', before.id), 1)

  await eventually(async () => {
    const [after] = await clientsNamed(admin, subName)
    return after !== undefined && after.id !== before.id && after.sub === 4
  })
  await eventually(async () => await redisState(b.app) === 'connected')
  t.equal(await numsub(admin, `${prefix}:room:{ops}`), 2)

  sender.send({ type: 'message', room: 'ops', data: { tag: 'after-kill' } })
  t.equal((await receiver.next('message')).data.tag, 'after-kill')
  sender.send({ type: 'broadcast', data: { tag: 'all-after-kill' } })
  t.equal((await receiver.next('broadcast')).data.tag, 'all-after-kill')
})

test('history off, Redis restarted: local delivery goes on, /ready is 503, then fan-out resumes', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  // Version 1's at-most-once delivery; with history on, see test/cluster/history-faults.test.ts.
  const a = await clusterApp(t, redis.url, prefix, { HISTORY_SIZE: 0 })
  const b = await clusterApp(t, redis.url, prefix, { HISTORY_SIZE: 0 })
  const senderA = await connect(t, `${a.url}/ws/ops`)
  const peerA = await connect(t, `${a.url}/ws/ops`)
  const receiverB = await connect(t, `${b.url}/ws/ops`)

  await redis.stop()
  for (const { app } of [a, b]) {
    await eventually(async () => await redisState(app) === 'reconnecting')
    const ready = await app.inject(`${PREFIX}/ready`)
    t.equal(ready.statusCode, 503)
    t.equal(ready.json().error, 'redis_unavailable')
  }

  t.equal((await senderA.request({ type: 'message', room: 'ops', data: { tag: 'offline' } })).type, 'ack')
  t.equal((await peerA.next('message')).data.tag, 'offline', 'members on the same instance still hear each other')
  // Joins while Redis is down are answered at once and subscribed when it returns.
  const bornOfflineB = await connect(t, `${b.url}/ws/born-offline`)
  const bornOfflineA = await connect(t, `${a.url}/ws`)
  t.equal((await bornOfflineA.request({ type: 'join', room: 'born-offline' })).type, 'joined')

  await redis.start()
  for (const { app } of [a, b]) {
    await eventually(async () => await redisState(app) === 'connected', 5000)
    t.equal((await app.inject(`${PREFIX}/ready`)).statusCode, 200)
  }
  const admin = adminClient(t, redis.url)
  t.equal(await numsub(admin, `${prefix}:room:{ops}`), 2)
  t.equal(await numsub(admin, `${prefix}:room:{born-offline}`), 2)

  senderA.send({ type: 'message', room: 'ops', data: { tag: 'back' } })
  t.equal((await receiverB.next('message')).data.tag, 'back', 'B missed the offline message and gets the next one')
  bornOfflineA.send({ type: 'message', room: 'born-offline', data: { tag: 'joined-offline' } })
  t.equal((await bornOfflineB.next('message')).data.tag, 'joined-offline')
})
