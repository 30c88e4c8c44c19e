/**
 * Cross-instance fan-out through Redis pub/sub, when REDIS_URL is set. (Filled in by the cluster
 * work; with REDIS_URL unset the hub's in-process broker stays.)
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'

const redisPlugin: FastifyPluginAsync = async (fastify) => {
  if (fastify.config.REDIS_URL === undefined) return
  throw new Error('REDIS_URL: cluster mode is not implemented yet')
}

export default fp(redisPlugin, { name: 'chat-api-redis', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub'] })
