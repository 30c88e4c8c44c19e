/**
 * Liveness and readiness for load balancers and orchestrators; never behind a token. Readiness
 * reads the hub: not ready while shutting down, or while Redis is configured but not connected.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { TOO_MANY_CONNECTIONS } from '../hub/admission.js'
import { SHUTTING_DOWN } from '../protocol.js'
import { HealthResponseSchema, ReadyResponseSchema } from '../schemas/http.js'

/** Probes are never rate limited (http-rate-limit.ts): a load balancer must always get an answer. */
const NOT_COUNTED = { rateLimit: false } as const

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { hub, admission } = fastify

  fastify.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness: 200 while the process serves', response: { 200: HealthResponseSchema } },
    config: NOT_COUNTED
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: 503 while Redis is configured but not connected, while shutting down, or at WS_MAX_CONNECTIONS',
      response: {
        200: ReadyResponseSchema,
        503: Type.Ref('ErrorResponse', { description: '`shutting_down`, `redis_unavailable` or `too_many_connections`' })
      }
    },
    config: NOT_COUNTED
  }, async (_request, reply) => {
    if (hub.closing) return reply.code(503).send(SHUTTING_DOWN)
    if (hub.brokerStatus === 'reconnecting') {
      return reply.code(503).send({ error: 'redis_unavailable', message: 'Redis is configured but not connected' })
    }
    // Open sockets stay; the load balancer sends new clients to another instance.
    if (admission.full) {
      return reply.code(503).send({ error: TOO_MANY_CONNECTIONS, message: 'this instance is at its connection limit' })
    }
    return { status: 'ready' as const }
  })
}

export default healthRoutes
