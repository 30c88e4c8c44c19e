/**
 * OpenAPI 3 from the route schemas (@fastify/swagger) and Swagger UI, under the chat-api prefix:
 * `/docs/json` and `/docs`. Must be registered before the routes: swagger collects them on onRoute.
 * A host that has its own @fastify/swagger keeps it; our routes then appear in the host's document.
 * @see https://github.com/fastify/fastify-swagger
 */
import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'

const docsPlugin: FastifyPluginAsync = async (fastify) => {
  if (fastify.hasPlugin('@fastify/swagger')) return
  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'chat-api',
        description: 'Real-time chat over WebSocket. The frames are described under components.schemas.',
        version: '0.1.0'
      },
      tags: [
        { name: 'websocket', description: 'WebSocket upgrades' },
        { name: 'stats', description: 'Counts of this instance' },
        { name: 'health', description: 'Liveness and readiness' }
      ]
    },
    hideUntagged: true
  })
  await fastify.register(fastifySwaggerUi, { routePrefix: '/docs' })
}

export default fp(docsPlugin, { name: 'chat-api-docs', fastify: '5.x' })
