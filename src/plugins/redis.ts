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
import { RedisBroker } from '../hub/redis-broker.js'

export const REDIS_NAMESPACE = 'chatApi'
/** Bound of each QUIT at shutdown before the socket is dropped. */
const QUIT_TIMEOUT_MS = 2000
/** How long the subscriber may take to connect once the publisher has. */
const SUBSCRIBER_START_TIMEOUT_MS = 5000
const RETRY_MAX_DELAY_MS = 2000

/** ioredis retries forever; doubling from 50 ms, capped so a returning Redis is found quickly. */
function retryStrategy (times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 10), RETRY_MAX_DELAY_MS) + Math.floor(Math.random() * 50)
}

const redisPlugin: FastifyPluginAsync = async (fastify) => {
  const { REDIS_URL, REDIS_CHANNEL_PREFIX } = fastify.config
  if (REDIS_URL === undefined) return
  const { hub } = fastify
  // The hub's instanceId in the names lets an operator (and the tests) find our connections.
  const connectionName = `chat-api:${hub.instanceId}`

  try {
    await fastify.register(fastifyRedis, {
      url: REDIS_URL,
      namespace: REDIS_NAMESPACE,
      connectionName: `${connectionName}:pub`,
      retryStrategy
    })
  } catch (err) {
    // After a plugin timeout @fastify/redis leaves its client retrying, which would keep the
    // process alive; Fastify cannot close an app whose boot failed, so stop it here.
    fastify.redis?.[REDIS_NAMESPACE]?.disconnect()
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
  const broker = new RedisBroker({
    hub,
    publisher,
    subscriber,
    channelPrefix: REDIS_CHANNEL_PREFIX,
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

  // Runs before @fastify/redis's own onClose (hooks run in reverse order), which QUITs the
  // publisher without a bound: a frozen Redis would hold shutdown forever, so a timer drops it.
  fastify.addHook('onClose', async () => {
    const watchdog = setTimeout(() => publisher.disconnect(), QUIT_TIMEOUT_MS)
    watchdog.unref()
    publisher.once('end', () => clearTimeout(watchdog))
    await broker.close()
  })
}

export default fp(redisPlugin, { name: 'chat-api-redis', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub'] })
