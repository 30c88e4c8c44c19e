/**
 * Cross-instance fan-out through Redis pub/sub, when REDIS_URL is set (unset: the hub's in-process
 * broker stays and nothing here runs).
 *
 * The publisher comes from @fastify/redis under the `chatApi` namespace (`fastify.redis.chatApi`),
 * so a host app that has its own `fastify.redis` keeps it. @fastify/redis waits for `ready` at
 * boot: a Redis unreachable at start-up fails start-up once Fastify's `pluginTimeout` (10 s by
 * default) runs out. Later outages are ridden out by reconnecting; see RedisBroker.
 * @see https://github.com/fastify/fastify-redis
 */
import fp from 'fastify-plugin'
import fastifyRedis from '@fastify/redis'
import type { FastifyPluginAsync } from 'fastify'
import type { Redis } from 'ioredis'
import { RedisHistory } from '../history/redis-history.js'
import { RedisBroker } from '../hub/redis-broker.js'
import { redisLayout, type RedisLayout } from '../redis/layout.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The publishing client and the key layout, for what else lives in Redis (presence); null without REDIS_URL. */
    chatApiRedis: { client: Redis, layout: RedisLayout } | null
  }
}

export const REDIS_NAMESPACE = 'chatApi'
/**
 * Shutdown bounds against a frozen Redis: each QUIT, then ioredis's wait for the peer to close
 * the dropped socket. At worst 2 x 1000 + 500 ms, inside the share of SHUTDOWN_TIMEOUT_MS left.
 */
const QUIT_TIMEOUT_MS = 1000
const DISCONNECT_TIMEOUT_MS = 500
/** How long the subscriber may take to connect once the publisher has. */
const SUBSCRIBER_START_TIMEOUT_MS = 5000
const RETRY_MAX_DELAY_MS = 2000

/** ioredis retries forever; the delay doubles from 100 ms up to a cap low enough to find a returning Redis quickly. */
function retryStrategy (times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 10), RETRY_MAX_DELAY_MS) + Math.floor(Math.random() * 50)
}

const redisPlugin: FastifyPluginAsync = async (fastify) => {
  const { REDIS_URL, REDIS_CHANNEL_PREFIX, HISTORY_SIZE, HISTORY_TTL_SEC } = fastify.config
  fastify.decorate('chatApiRedis', null)
  if (REDIS_URL === undefined) return
  const { hub } = fastify
  // The hub's instanceId in the names lets an operator (and the tests) find our connections.
  const connectionName = `chat-api:${hub.instanceId}`

  try {
    await fastify.register(fastifyRedis, {
      url: REDIS_URL,
      namespace: REDIS_NAMESPACE,
      connectionName: `${connectionName}:pub`,
      retryStrategy,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      // Every history script of a turn goes out in one write instead of a round trip each.
      enableAutoPipelining: true
    })
  } catch (err) {
    // After a plugin timeout @fastify/redis leaves its client retrying, which would keep the
    // process alive; Fastify cannot close an app whose boot failed, so stop it here. Its `end`
    // listener would QUIT the ended client: an unhandled rejection.
    const client = fastify.redis?.[REDIS_NAMESPACE]
    client?.removeAllListeners('end').disconnect()
    throw err
  }
  const publisher = fastify.redis[REDIS_NAMESPACE]
  const subscriber = publisher.duplicate({
    connectionName: `${connectionName}:sub`,
    // The broker resubscribes on `ready` itself and must never wait on an offline queue.
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    enableOfflineQueue: false
  })
  const layout = redisLayout(REDIS_CHANNEL_PREFIX)
  if (HISTORY_SIZE > 0) {
    hub.useHistory(new RedisHistory({
      client: publisher,
      layout,
      size: HISTORY_SIZE,
      ttlSec: HISTORY_TTL_SEC,
      newEpoch: () => hub.nextMessageId()
    }))
  }
  const broker = new RedisBroker({
    hub,
    publisher,
    subscriber,
    layout,
    log: fastify.log,
    quitTimeoutMs: QUIT_TIMEOUT_MS
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

  // Runs before @fastify/redis's own onClose (hooks run in reverse order), which QUITs the
  // publisher without a bound: a frozen Redis would hold shutdown forever, so a timer drops it.
  fastify.addHook('onClose', async () => {
    await broker.close()
    const watchdog = setTimeout(() => publisher.disconnect(), QUIT_TIMEOUT_MS)
    watchdog.unref()
    publisher.once('end', () => clearTimeout(watchdog))
  })
}

export default fp(redisPlugin, { name: 'chat-api-redis', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub'] })
