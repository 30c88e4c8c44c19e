/**
 * No Redis command waits forever (REDIS_COMMAND_TIMEOUT_MS): a command cut off by a quick
 * reconnect, or stuck on a stalled link, settles within the deadline, so a room never freezes and
 * a send is answered `unavailable` rather than nothing.
 */
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { connect, eventually } from '../helper.js'
import { adminClient, clientsNamed, clusterApp, statsOf, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'
import { holdingProxy } from '../helpers/holding-proxy.js'

const TIMEOUT_MS = 500

async function connectionOf (admin: ReturnType<typeof adminClient>, app: FastifyInstance, role: 'sub' | 'pub'): Promise<string> {
  const [conn] = await clientsNamed(admin, `${(await statsOf(app)).instanceId}:${role}`)
  return conn.id
}

test('a resync cut off by a quick reconnect of the command connection: the room hears again', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const admin = adminClient(t, redis.url)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, redis.url, prefix, { REDIS_COMMAND_TIMEOUT_MS: TIMEOUT_MS })
  const b = await clusterApp(t, redis.url, prefix, { REDIS_COMMAND_TIMEOUT_MS: TIMEOUT_MS })
  const member = await connect(t, `${a.url}/ws/r`)
  const sender = await connect(t, `${b.url}/ws/r`)
  await sender.request({ type: 'message', room: 'r', data: 'before' })
  await member.next(f => f.type === 'message' && f.data === 'before')

  const sub = await connectionOf(admin, a.app, 'sub')
  const pub = await connectionOf(admin, a.app, 'pub')
  // Scripts wait while writes are paused: the resync that the subscriber's return starts hangs.
  await admin.call('CLIENT', 'PAUSE', '3000', 'WRITE')
  await admin.call('CLIENT', 'KILL', 'ID', sub)
  await eventually(async () => (await clientsNamed(admin, `${(await statsOf(a.app)).instanceId}:sub`)).some(c => c.sub > 0), 5000)
  await admin.call('CLIENT', 'KILL', 'ID', pub)
  await eventually(async () => (await statsOf(a.app)).redis === 'connected', 5000)
  await admin.call('CLIENT', 'UNPAUSE')

  await sender.request({ type: 'message', room: 'r', data: 'after' })
  // Heard again (in order), or told to resume: never silence.
  const outcome = await Promise.race([
    member.next(f => f.type === 'message' && f.data === 'after', 3 * 2000 + 5000).then(() => 'heard'),
    member.closed.then(code => `closed ${code}`)
  ])
  t.ok(outcome === 'heard' || outcome === 'closed 4010', `the member hears again or is closed 4010 (${outcome})`)
  if (outcome === 'heard') t.same(member.frames.filter(f => f.type === 'message').map(f => f.data), ['before', 'after'])
})

test('a stalled link: a send is answered `unavailable` within the deadline, a history read too', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const proxy = await holdingProxy(t, redis.url)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, proxy.url, prefix, { REDIS_COMMAND_TIMEOUT_MS: TIMEOUT_MS })
  const sender = await connect(t, `${a.url}/ws/r`)
  t.match(await sender.request({ type: 'message', room: 'r', data: 'first' }), { type: 'ack', offset: 1 })

  proxy.hold()
  const started = Date.now()
  // The proxy holds for far longer than the deadline: only the deadline can answer.
  const stall = setTimeout(() => proxy.release(), 8 * TIMEOUT_MS + 4000)
  t.teardown(() => clearTimeout(stall))
  t.match(await sender.request({ type: 'message', room: 'r', data: 'stuck', key: 'k' }), { type: 'error', code: 'unavailable' })
  t.match(await sender.request({ type: 'history', room: 'r' }), { type: 'error', code: 'unavailable' })
  t.ok(Date.now() - started < 8 * TIMEOUT_MS + 4000, 'answered before the link came back')
  proxy.release()

  // The held send may have been stored once the link moved: its resend with the key is stored once.
  await eventually(async () => {
    const reply = await sender.request({ type: 'message', room: 'r', data: 'stuck', key: 'k' })
    return reply.type === 'ack'
  }, 10000)
  const history = await sender.request({ type: 'history', room: 'r' })
  t.same(history.messages.map((m: any) => m.data), ['first', 'stuck'], 'stored once')
})
