import { once } from 'node:events'
import { createServer } from 'node:net'
import { test } from 'tap'
import Fastify from 'fastify'
import fastifyRedis from '@fastify/redis'
import chatApi from '../../src/app.js'
import { connect, eventually, PREFIX } from '../helper.js'
import { adminClient, clientsNamed, clusterApp, statsOf, TEST_REDIS_URL, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

test('close quits both Redis connections, named after the instance', async (t) => {
  const admin = adminClient(t)
  const { app, url } = await clusterApp(t, TEST_REDIS_URL, uniquePrefix())
  await connect(t, `${url}/ws/room`)
  const { instanceId } = await statsOf(app)
  const names = (await clientsNamed(admin, instanceId)).map(c => c.name).sort()
  t.same(names, [`chat-api:${instanceId}:pub`, `chat-api:${instanceId}:sub`])

  await app.close()
  await eventually(async () => (await clientsNamed(admin, instanceId)).length === 0)
})

/**
 * Mirrors of src/plugins/redis.ts and src/redis/connect.ts: each connection's QUIT waits at most
 * QUIT_TIMEOUT_MS, then ioredis waits DISCONNECT_TIMEOUT_MS for the dropped socket to close.
 */
const QUIT_TIMEOUT_MS = 1000
const DISCONNECT_TIMEOUT_MS = 500

test('close while Redis is down ends at once', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const { app } = await clusterApp(t, redis.url, uniquePrefix())
  await redis.stop()
  await eventually(async () => (await statsOf(app)).redis === 'reconnecting')
  const started = performance.now()
  await app.close()
  // Waiting for a QUIT would take a whole QUIT_TIMEOUT_MS; not waiting takes milliseconds, so
  // that bound tells the two apart with all of it as slack.
  const took = performance.now() - started
  t.ok(took < QUIT_TIMEOUT_MS, `no QUIT waits for an absent Redis (${Math.round(took)} ms)`)
})

test('close with a frozen Redis is bounded', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const { app } = await clusterApp(t, redis.url, uniquePrefix())
  process.kill(redis.pid as number, 'SIGSTOP') // accepts nothing, answers nothing; stop() resumes it
  const started = performance.now()
  await app.close().catch((err) => t.comment(`close: ${err.message}`))
  const took = performance.now() - started
  // At worst each of the two connections' QUIT timer, then ioredis's wait for the socket: 2.5 s.
  // Bounded by that with 1.5 s of slack for a loaded machine, well under SHUTDOWN_TIMEOUT_MS's 10 s.
  const worst = 2 * QUIT_TIMEOUT_MS + DISCONNECT_TIMEOUT_MS
  t.ok(took < worst + 1500, `closed in ${Math.round(took)} ms (at worst ${worst} ms by design)`)
})

test('an unreachable Redis at start-up fails start-up and leaves no client retrying', async (t) => {
  // A port that accepts connections and never answers: the client hangs in its handshake.
  const closed: Array<Promise<unknown>> = []
  const silent = createServer(socket => {
    closed.push(once(socket, 'close'))
    socket.resume()
  }).listen(0, '127.0.0.1')
  await once(silent, 'listening')
  t.teardown(() => silent.close())
  const { port } = silent.address() as { port: number }

  // The Redis wait is 70 % of the host's plugin timeout; the other 30 % (900 ms here) is what the
  // rest of the start-up may take on a loaded machine before the host's own timeout would fire.
  const pluginTimeout = 3000
  const app = Fastify({ pluginTimeout })
  app.register(chatApi, { env: false, REDIS_URL: `redis://127.0.0.1:${port}` })
  // Within the host's plugin timeout, with the variable named rather than a plugin timing out.
  await t.rejects(async () => { await app.ready() }, { message: new RegExp(`^REDIS_URL: Redis did not answer within ${Math.floor(pluginTimeout * 0.7)} ms`) })
  t.ok(closed.length > 0, 'the client had connected')
  await Promise.all(closed)
})

test('a host app that has its own @fastify/redis keeps it', async (t) => {
  const host = Fastify()
  t.teardown(() => host.close())
  await host.register(fastifyRedis, { url: TEST_REDIS_URL, connectionName: 'host-app' })
  await host.register(chatApi, { env: false, REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() })
  await host.ready()
  t.equal(await host.redis.ping(), 'PONG', 'the host\'s client is untouched')
  t.equal((await host.inject(`${PREFIX}/ws/stats`)).json().redis, 'connected')
  t.equal((host.redis.chatApi as unknown as { options: { connectionName: string } }).options.connectionName.endsWith(':pub'), true,
    'ours sits beside it, under the chatApi namespace')
  // Without a listener of ours, an `error` event would throw.
  t.doesNotThrow(() => host.redis.chatApi.emit('error', new Error('socket hang up')))
})
