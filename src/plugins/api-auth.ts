/**
 * The `apiAuth` decorator: who may call the server API, and the read routes' extra way in.
 *
 * - `X-API-Key: <API_KEY>`, compared in constant time, acts for no user (`from.user` null).
 * - With auth on, a JWT whose `scope` has `chat:publish` acts as its `sub`; disconnects need
 *   `chat:admin` instead.
 * - With auth off and no API_KEY the server API is open, like the sockets; the start-up log says so.
 *
 * Read routes (stats, and history, presence and cluster) take the key as well as a token.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { extractToken } from '../auth/extract-token.js'
import { UNAUTHORIZED } from '../auth/unauthorized.js'
import type { Principal } from '../hub/principal.js'
import { ADMIN_SCOPE, ErrorCode, PUBLISH_SCOPE } from '../protocol.js'

declare module 'fastify' {
  interface FastifyInstance {
    apiAuth: ApiAuth
  }
}

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>

export interface ApiAuth {
  /** The publishing routes' hook (onRequest: credentials are checked before a body is read). */
  publisher: Hook
  /** The disconnect routes' hook (onRequest): the API key or a `chat:admin` token. */
  admin: Hook
  /** A read route's hook (preValidation): the API key, else the token rules of the sockets. */
  reader: Hook
  /** Which schemes the OpenAPI document lists on the server API: `apiKey`, `bearerAuth`, both, or none (open). */
  schemes: Array<'apiKey' | 'bearerAuth'>
  /**
   * Who is calling, for the HTTP rate limit: the API key, a verified token's `sub`, else the
   * address. Only a verified token counts: unverified ones would let a caller pick any bucket.
   */
  callerKey: (request: FastifyRequest) => string
  /** The OpenAPI `security` of a read route; undefined while it is open (auth off). */
  readSecurity: Array<Record<string, never[]>> | undefined
}

export const API_KEY_HEADER = 'x-api-key'

/** What a caller with the API key, or any caller of an open server API, may do. */
export const API_PRINCIPAL: Principal = Object.freeze({ user: null, rooms: null, canBroadcast: true, canPublish: true, isAdmin: true, exp: null })

/** Digests have one length whatever was sent, so timingSafeEqual neither throws nor leaks the key's length. */
const digest = (value: string) => createHash('sha256').update(value).digest()

const apiAuthPlugin: FastifyPluginAsync = async (fastify) => {
  const { API_KEY, AUTH_ENABLED } = fastify.config
  const { auth } = fastify
  const expected = API_KEY === undefined ? null : digest(API_KEY)
  const schemes: ApiAuth['schemes'] = []
  if (expected !== null) schemes.push('apiKey')
  if (AUTH_ENABLED) schemes.push('bearerAuth')
  if (schemes.length === 0) {
    fastify.log.warn('the server API is open to anyone who reaches it: set API_KEY (or AUTH_ENABLED=true) to protect it')
  }
  const challenge = [
    ...(AUTH_ENABLED ? ['Bearer'] : []),
    ...(expected !== null ? ['ApiKey header="X-API-Key"'] : [])
  ].join(', ')

  function refuse (reply: FastifyReply, message: string): FastifyReply {
    return reply.code(401).header('www-authenticate', challenge).send({ error: UNAUTHORIZED, message })
  }

  /** True: the key is right; false: a key came and is wrong; null: no key sent, or none is configured. */
  function keyAccepted (request: FastifyRequest): boolean | null {
    const sent = request.headers[API_KEY_HEADER]
    if (sent === undefined || expected === null) return null
    return typeof sent === 'string' && timingSafeEqual(digest(sent), expected)
  }

  /** The server API's check: the key, or a token whose scope grants `right`. */
  function serverApiHook (scope: string, right: (principal: Principal) => boolean): Hook {
    return async (request, reply) => {
      const key = keyAccepted(request)
      if (key === false) return refuse(reply, 'the API key is not valid')
      if (key === true || schemes.length === 0) {
        request.principal = API_PRINCIPAL
        return undefined
      }
      const extracted = extractToken(request)
      if (!AUTH_ENABLED || ('problem' in extracted && extracted.problem === 'missing')) {
        return refuse(reply, AUTH_ENABLED
          ? `an API key (X-API-Key) or a token with the ${scope} scope is required`
          : 'an API key (X-API-Key) is required')
      }
      const refused = await auth.authenticate(request, reply)
      if (refused !== undefined) return refused
      if (request.principal === null || !right(request.principal)) {
        return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: `this needs the ${scope} scope` })
      }
      return undefined
    }
  }
  const publisher = serverApiHook(PUBLISH_SCOPE, principal => principal.canPublish)
  const admin = serverApiHook(ADMIN_SCOPE, principal => principal.isAdmin)

  const reader: Hook = async (request, reply) => {
    const key = keyAccepted(request)
    if (key === false) return refuse(reply, 'the API key is not valid')
    if (key === true) {
      request.principal = API_PRINCIPAL
      return undefined
    }
    return auth.authenticate(request, reply)
  }

  function callerKey (request: FastifyRequest): string {
    if (keyAccepted(request) === true) return 'api-key'
    if (AUTH_ENABLED) {
      const extracted = extractToken(request)
      if ('token' in extracted) {
        const verified = auth.verify(extracted.token)
        if ('principal' in verified) return `sub:${verified.principal.user ?? ''}`
      }
    }
    return `address:${request.ip}`
  }

  const readSecurity = AUTH_ENABLED
    ? ['bearerAuth', 'accessToken', ...(expected !== null ? ['apiKey'] : [])].map(name => ({ [name]: [] }))
    : undefined
  fastify.decorate('apiAuth', { publisher, admin, reader, callerKey, schemes, readSecurity } satisfies ApiAuth)
}

export default fp(apiAuthPlugin, { name: 'chat-api-api-auth', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-auth'] })
