/**
 * A socket that joins while its instance's link to Redis is down: once the link is back it gets
 * every message stored after its `joined`, in order, or is closed with 4010 — never a skip.
 */
import { test } from 'tap'
import { connect, eventually } from '../helper.js'
import { clusterApp, statsOf, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'
import { holdingProxy } from '../helpers/holding-proxy.js'

test('a join while the link is down: what was stored meanwhile arrives, or 4010; never a skip', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const proxy = await holdingProxy(t, redis.url)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, proxy.url, prefix, { REDIS_COMMAND_TIMEOUT_MS: 500 })
  const b = await clusterApp(t, redis.url, prefix)
  const sender = await connect(t, `${b.url}/ws/r`)
  await sender.request({ type: 'message', room: 'r', data: 0 })

  proxy.cut()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  const member = await connect(t, `${a.url}/ws/r`) // joined with no position: Redis is out of reach
  for (let i = 1; i <= 3; i++) await sender.request({ type: 'message', room: 'r', data: i })
  proxy.restore()
  await eventually(async () => (await statsOf(a.app)).redis === 'connected', 10000)
  await sender.request({ type: 'message', room: 'r', data: 4 })

  const outcome = await Promise.race([
    member.next(f => f.type === 'message' && f.data === 4, 10000).then(() => 'heard'),
    member.closed.then(code => `closed ${code}`)
  ])
  const got = member.frames.filter(f => f.type === 'message').map(f => f.data)
  if (outcome === 'heard') t.same(got, [1, 2, 3, 4], 'everything stored after its join, in order')
  else {
    t.equal(outcome, 'closed 4010', `told to resume (got ${JSON.stringify(got)})`)
    // Closed like any other socket: it leaves the room, which closes with its last member.
    await eventually(async () => ((await statsOf(a.app)).rooms as Record<string, number>).r === undefined)
    t.pass('the room is gone from the instance')
  }
})
