/**
 * The server API across two instances on one Redis: a published message and a broadcast reach
 * the members of both with `from.connectionId` null; a user's sockets on both instances, and a
 * single connection on the other instance, are closed with 4003 through the control channel;
 * with Redis down, a disconnect closes what this instance holds and answers 503.
 */
import { test } from 'tap'
import { connect, eventually, PREFIX } from '../helper.js'
import { bearer, SECRET, sign } from '../helpers/auth-tokens.js'
import type { FastifyInstance } from 'fastify'
import { clusterApp, TEST_REDIS_URL, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

const API_KEY = 'cluster-server-api-key-0123456789abcdef'
const CONFIG = { API_KEY, AUTH_ENABLED: 'true', JWT_SECRET: SECRET }
const key = { 'x-api-key': API_KEY }
/** Stats with the API key (auth is on): the read routes take it too. */
const statsOf = async (app: FastifyInstance) => (await app.inject({ url: `${PREFIX}/ws/stats`, headers: key })).json()

test('a message published on A reaches the room on both instances; a broadcast every socket', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, CONFIG)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, CONFIG)
  const onA = await connect(t, `${a.url}/ws/general`, bearer(sign({ sub: 'ada' })))
  const onB = await connect(t, `${b.url}/ws/general`, bearer(sign({ sub: 'bob' })))
  const elsewhere = await connect(t, `${b.url}/ws/random`, bearer(sign({ sub: 'cy' })))

  const res = await a.app.inject({ method: 'POST', url: `${PREFIX}/rooms/general/messages`, headers: key, payload: { data: { n: 1 } } })
  t.equal(res.statusCode, 201)
  const { messageId } = res.json()
  for (const member of [onA, onB]) {
    t.match(await member.next('message'), { room: 'general', data: { n: 1 }, from: { connectionId: null, user: null }, messageId })
  }

  const broadcast = await b.app.inject({ method: 'POST', url: `${PREFIX}/broadcast`, headers: bearer(sign({ sub: 'backend', scope: 'chat:publish' })), payload: { data: 'all' } })
  t.equal(broadcast.statusCode, 201)
  for (const socket of [onA, onB, elsewhere]) {
    t.match(await socket.next('broadcast'), { data: 'all', from: { connectionId: null, user: 'backend' } })
  }
  t.notOk(elsewhere.frames.some(f => f.type === 'message'), 'a non-member got no room message')
})

test('a user\'s sockets on both instances close with 4003; one connection on the other instance too', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, CONFIG)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, CONFIG)
  const adaA = await connect(t, `${a.url}/ws`, bearer(sign({ sub: 'ada' })))
  const adaB1 = await connect(t, `${b.url}/ws`, bearer(sign({ sub: 'ada' })))
  const adaB2 = await connect(t, `${b.url}/ws`, bearer(sign({ sub: 'ada' })))
  const bobB = await connect(t, `${b.url}/ws`, bearer(sign({ sub: 'bob' })))
  const cyB = await connect(t, `${b.url}/ws`, bearer(sign({ sub: 'cy' })))

  const reason = new Promise<string>(resolve => adaB1.ws.once('close', (_code, r) => resolve(r.toString())))
  const res = await a.app.inject({ method: 'POST', url: `${PREFIX}/users/ada/disconnect`, headers: key, payload: { reason: 'banned for spam' } })
  t.equal(res.statusCode, 202)
  t.same(await Promise.all([adaA.closed, adaB1.closed, adaB2.closed]), [4003, 4003, 4003])
  t.equal(await reason, 'banned for spam')
  t.equal((await bobB.request({ type: 'ping' })).type, 'pong', 'other users stay')

  // One connection, held by B, disconnected through A.
  const bobId = bobB.frames[0].connectionId
  const one = await a.app.inject({ method: 'POST', url: `${PREFIX}/connections/${bobId}/disconnect`, headers: key, payload: {} })
  t.equal(one.statusCode, 202)
  t.equal(await bobB.closed, 4003)
  t.equal((await cyB.request({ type: 'ping' })).type, 'pong', 'only that connection')
  await eventually(async () => (await statsOf(b.app)).connections === 1)
})

test('Redis down: a user disconnect closes this instance\'s sockets and answers 503 unavailable', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, redis.url, prefix, CONFIG)
  const b = await clusterApp(t, redis.url, prefix, CONFIG)
  const adaA = await connect(t, `${a.url}/ws`, bearer(sign({ sub: 'ada' })))
  const adaB = await connect(t, `${b.url}/ws`, bearer(sign({ sub: 'ada' })))
  const bobA = await connect(t, `${a.url}/ws`, bearer(sign({ sub: 'bob' })))

  await redis.stop()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting')
  const res = await a.app.inject({ method: 'POST', url: `${PREFIX}/users/ada/disconnect`, headers: key, payload: {} })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'unavailable')
  t.equal(await adaA.closed, 4003, 'this instance\'s socket was closed all the same')
  t.equal(adaB.closeCode, null, 'the other instance was not reached')

  // A connection held here is closed (202); one held elsewhere cannot be reached (503).
  const local = await a.app.inject({ method: 'POST', url: `${PREFIX}/connections/${bobA.frames[0].connectionId}/disconnect`, headers: key, payload: {} })
  t.equal(local.statusCode, 202)
  t.equal(await bobA.closed, 4003)
  const remote = await a.app.inject({ method: 'POST', url: `${PREFIX}/connections/${adaB.frames[0].connectionId}/disconnect`, headers: key, payload: {} })
  t.equal(remote.statusCode, 503)
  t.equal(remote.json().error, 'unavailable')
})

test('Redis down with history on: a publish is 503 unavailable and reaches no one', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, redis.url, prefix, CONFIG)
  const member = await connect(t, `${a.url}/ws/general`, bearer(sign({ sub: 'ada' })))
  await redis.stop()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting')
  const res = await a.app.inject({ method: 'POST', url: `${PREFIX}/rooms/general/messages`, headers: key, payload: { data: 'lost?' } })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error, 'unavailable')
  member.send({ type: 'ping', id: 'p' })
  await member.next('pong')
  t.notOk(member.frames.some(f => f.type === 'message'), 'nothing was published')
})
