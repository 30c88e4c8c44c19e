/**
 * The `admission` decorator: this instance's connection index and the checks made before each
 * upgrade (WS_ALLOWED_ORIGINS, WS_MAX_CONNECTIONS, WS_MAX_CONNECTIONS_PER_USER).
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Admission } from '../hub/admission.js'

declare module 'fastify' {
  interface FastifyInstance {
    admission: Admission
  }
}

const admissionPlugin: FastifyPluginAsync = async (fastify) => {
  const { WS_ALLOWED_ORIGINS, WS_MAX_CONNECTIONS, WS_MAX_CONNECTIONS_PER_USER } = fastify.config
  fastify.decorate('admission', new Admission({
    allowedOrigins: WS_ALLOWED_ORIGINS,
    maxConnections: WS_MAX_CONNECTIONS,
    maxPerUser: WS_MAX_CONNECTIONS_PER_USER
  }, fastify.hub))
}

export default fp(admissionPlugin, { name: 'chat-api-admission', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub'] })
