/**
 * `GET /metrics`: Prometheus text format, no token (meant for the internal network). Absent,
 * hence 404, with METRICS_ENABLED=false.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { metrics } = fastify
  if (metrics === null) return

  fastify.get('/metrics', {
    schema: {
      tags: ['metrics'],
      summary: 'Prometheus metrics of this instance (text exposition format)',
      response: { 200: Type.String({ description: 'Prometheus text format 0.0.4' }) }
    },
    // Scrapers are not rate limited (http-rate-limit.ts): a gap in the metrics hides what happened.
    config: { rateLimit: false }
  }, async (_request, reply) => {
    const body = await metrics.registry.metrics()
    return reply.type(metrics.registry.contentType).send(body)
  })
}

export default metricsRoutes
