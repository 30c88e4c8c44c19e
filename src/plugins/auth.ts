/**
 * The `auth` decorator: turns an upgrade or stats request into a Principal. With AUTH_ENABLED=false
 * everyone is anonymous and may do everything.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { ANONYMOUS, type Principal } from '../hub/principal.js'

declare module 'fastify' {
  interface FastifyInstance {
    auth: Auth
  }
  interface FastifyRequest {
    /** Set by `auth.authenticate`; null before it ran. */
    principal: Principal | null
  }
}

export interface Auth {
  enabled: boolean
  /** A preValidation hook: rejects with 401 JSON, or sets `request.principal`. */
  authenticate: (request: FastifyRequest) => Promise<void>
}

const authPlugin: FastifyPluginAsync = async (fastify) => {
  fastify.decorateRequest('principal', null)
  const auth: Auth = {
    enabled: false,
    async authenticate (request) {
      request.principal = ANONYMOUS
    }
  }
  fastify.decorate('auth', auth)
}

export default fp(authPlugin, { name: 'chat-api-auth', fastify: '5.x', dependencies: ['chat-api-config'] })
