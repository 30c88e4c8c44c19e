/**
 * The `metrics` decorator: chat-api's Prometheus registry (null with METRICS_ENABLED=false), and
 * the hub's observer that feeds it. Registered after the Redis plugin, which decides whether
 * there is a Redis link to report on.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { ChatMetrics } from '../metrics/chat-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ChatMetrics | null
  }
}

const metricsPlugin: FastifyPluginAsync = async (fastify) => {
  const { hub } = fastify
  if (!fastify.config.METRICS_ENABLED) {
    fastify.decorate('metrics', null)
    return
  }
  const metrics = new ChatMetrics({ hub, redis: hub.brokerStatus !== 'disabled' })
  hub.observer = metrics
  fastify.decorate('metrics', metrics)
}

export default fp(metricsPlugin, {
  name: 'chat-api-metrics',
  fastify: '5.x',
  dependencies: ['chat-api-config', 'chat-api-hub', 'chat-api-redis']
})
