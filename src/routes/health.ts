/**
 * Liveness and readiness for load balancers and orchestrators; never behind a token. Readiness
 * reads the hub: not ready while shutting down, or while Redis is configured but not connected.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SHUTTING_DOWN } from '../protocol.js'
import { HealthResponseSchema, ReadyResponseSchema } from '../schemas/http.js'

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { hub } = fastify

  fastify.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness: 200 while the process serves', response: { 200: HealthResponseSchema } }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: 503 while Redis is configured but not connected, or while shutting down',
      response: {
        200: ReadyResponseSchema,
        503: Type.Ref('ErrorResponse', { description: '`shutting_down` or `redis_unavailable`' })
      }
    }
  }, async (_request, reply) => {
    if (hub.closing) return reply.code(503).send(SHUTTING_DOWN)
    if (hub.brokerStatus === 'reconnecting') {
      return reply.code(503).send({ error: 'redis_unavailable', message: 'Redis is configured but not connected' })
    }
    return { status: 'ready' as const }
  })
}

export default healthRoutes
