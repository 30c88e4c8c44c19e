/**
 * Cross-instance fan-out through Redis pub/sub, when one of REDIS_URL, REDIS_SENTINELS or
 * REDIS_CLUSTER_NODES is set (none: the hub's in-process broker stays and nothing here runs).
 * src/redis/connect.ts makes the connections of the mode; this plugin wires them to the hub.
 *
 * The command connection is registered with @fastify/redis under the `chatApi` namespace
 * (`fastify.redis.chatApi`: an ioredis Cluster in cluster mode), so a host app that has its own
 * `fastify.redis` keeps it. A Redis unreachable at start-up fails the start before the plugin
 * timeout, with a message naming the variable. Later outages are ridden out by
 * reconnecting; see RedisBroker.
 */
import fp from 'fastify-plugin'
import fastifyRedis from '@fastify/redis'
import type { FastifyPluginAsync } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { RedisHistory } from '../history/redis-history.js'
import { RedisBroker } from '../hub/redis-broker.js'
import { quitWithTimeout } from '../redis/quit.js'
import { connectRedis } from '../redis/connect.js'
import type { RedisLayout } from '../redis/layout.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The command connection and the key layout, for what else lives in Redis (presence); null without Redis. */
    chatApiRedis: { client: Redis | Cluster, layout: RedisLayout } | null
  }
}

export const REDIS_NAMESPACE = 'chatApi'
/**
 * Shutdown bound against a frozen Redis: each QUIT, then ioredis's wait for the peer to close the
 * dropped socket (connect.ts). At worst 2 x 1000 + 500 ms, inside the share of SHUTDOWN_TIMEOUT_MS left.
 */
const QUIT_TIMEOUT_MS = 1000
/** How long the subscribers may take to connect once the command connection has. */
const SUBSCRIBER_START_TIMEOUT_MS = 5000

/**
 * How long the command connection may take at start-up: 70 % of the app's plugin timeout (7 s of
 * Fastify's default 10 s), so an unreachable Redis fails the start with a message naming the
 * variable rather than a plugin timeout naming a plugin, whatever timeout a host app set.
 */
const COMMANDS_START_SHARE = 0.7
const COMMANDS_START_TIMEOUT_MS = 7000

/** Resolves once `client` is connected; rejects after `timeoutMs` with the variable and the last error. */
function untilReady (client: Redis | Cluster, variable: string, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    let lastError = 'no answer'
    const onError = (err: Error): void => { lastError = err.message }
    const done = (err?: Error): void => {
      clearTimeout(timer)
      client.off('ready', onReady).off('error', onError)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onReady = (): void => done()
    const timer = setTimeout(() => done(new Error(`${variable}: Redis did not answer within ${timeoutMs} ms (${lastError})`)), timeoutMs)
    client.on('ready', onReady).on('error', onError)
  })
}

const redisPlugin: FastifyPluginAsync = async (fastify) => {
  const { HISTORY_SIZE, HISTORY_TTL_SEC, HISTORY_MIN_REPLICAS, HISTORY_REPLICA_TIMEOUT_MS, REDIS_COMMAND_TIMEOUT_MS } = fastify.config
  fastify.decorate('chatApiRedis', null)
  const { hub } = fastify
  // The hub's instanceId in the names lets an operator (and the tests) find our connections.
  const redis = connectRedis(fastify.config, `chat-api:${hub.instanceId}`)
  if (redis === null) return
  const { commands: publisher, layout } = redis

  try {
    const pluginTimeout = fastify.initialConfig.pluginTimeout ?? 10_000
    await untilReady(publisher, redis.variable, pluginTimeout > 0 ? Math.floor(pluginTimeout * COMMANDS_START_SHARE) : COMMANDS_START_TIMEOUT_MS)
    // @fastify/redis types its clients as Redis; a Cluster answers the same commands we use.
    await fastify.register(fastifyRedis, { client: publisher as Redis, namespace: REDIS_NAMESPACE, closeClient: false })
  } catch (err) {
    // The client goes on retrying, which would keep the process alive; Fastify cannot close an
    // app whose boot failed, so stop it here. (@fastify/redis is only registered once the client
    // is ready, so it has left no listener of its own on it.)
    publisher.disconnect()
    throw err
  }
  if (HISTORY_SIZE > 0) {
    hub.useHistory(new RedisHistory({
      client: publisher,
      layout,
      size: HISTORY_SIZE,
      ttlSec: HISTORY_TTL_SEC,
      newEpoch: () => hub.nextMessageId(),
      minReplicas: HISTORY_MIN_REPLICAS,
      replicaTimeoutMs: HISTORY_REPLICA_TIMEOUT_MS,
      commandTimeoutMs: REDIS_COMMAND_TIMEOUT_MS
    }))
  }
  const broker = new RedisBroker({
    hub,
    publisher,
    subscriptions: redis.subscriptions,
    layout,
    log: fastify.log,
    quitTimeoutMs: QUIT_TIMEOUT_MS,
    variable: redis.variable
  })
  try {
    await broker.waitSynced(SUBSCRIBER_START_TIMEOUT_MS)
  } catch (err) {
    await broker.close()
    publisher.disconnect()
    throw err
  }
  hub.useBroker(broker)
  fastify.chatApiRedis = { client: publisher, layout }

  // We close the command connection, not @fastify/redis (registered with `closeClient: false`):
  // its plain QUIT has no bound, and a QUIT that lands in the offline queue behind commands sent
  // as Redis went away (presence clean-up, at shutdown) is never answered nor failed, even once
  // the client is disconnected. The subscribers go first, so nothing arrives after the hub stops.
  fastify.addHook('onClose', async () => {
    await broker.close()
    await quitWithTimeout(publisher, QUIT_TIMEOUT_MS)
  })
}

export default fp(redisPlugin, { name: 'chat-api-redis', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub'] })
