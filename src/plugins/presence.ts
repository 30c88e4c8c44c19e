/**
 * Presence (PRESENCE_ENABLED, default on): in Redis and shared by every instance when REDIS_URL is
 * set, else in-process. Hooks the presence into the hub, and with Redis runs the heartbeat, which
 * renews this instance's presence leases, and writes them all again each time the Redis connection
 * is re-established.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Heartbeat } from '../presence/heartbeat.js'
import { LocalPresence } from '../presence/local-presence.js'
import { RedisPresence } from '../presence/redis-presence.js'

const presencePlugin: FastifyPluginAsync = async (fastify) => {
  const { PRESENCE_ENABLED, PRESENCE_TTL_SEC } = fastify.config
  if (!PRESENCE_ENABLED) return
  const { hub, chatApiRedis: redis } = fastify
  const startedAt = Date.now()
  const counts = () => ({ connections: hub.connections.size, rooms: hub.roomCount })
  if (redis === null) {
    hub.presence = new LocalPresence({
      instanceId: hub.instanceId,
      startedAt,
      counts,
      deliver: (room, frame, except) => hub.deliverMember(room, frame, except)
    })
    return
  }
  const presence = new RedisPresence({
    client: redis.client,
    layout: redis.layout,
    instanceId: hub.instanceId,
    log: fastify.log,
    leaseMs: Heartbeat.leaseMs(PRESENCE_TTL_SEC)
  })
  const heartbeat = new Heartbeat({
    presence, layout: redis.layout, instanceId: hub.instanceId, startedAt, counts, ttlSec: PRESENCE_TTL_SEC, log: fastify.log
  })
  hub.presence = presence
  const restored = (): void => heartbeat.linkRestored()
  redis.client.on('ready', restored)
  heartbeat.start()

  // Registered after the redis plugin, so this runs before its client quits (the QUIT follows
  // these commands on the same connection); the sockets left their rooms in the hub's preClose.
  fastify.addHook('onClose', async () => {
    heartbeat.stop()
    redis.client.off('ready', restored)
    presence.close()
  })
}

export default fp(presencePlugin, { name: 'chat-api-presence', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub', 'chat-api-redis'] })
