/**
 * Security headers on every answer of chat-api's context (the demo, Swagger UI, the AsyncAPI page,
 * and the JSON routes alike): a Content-Security-Policy under which only the service's own scripts
 * and styles run, `nosniff`, no referrer, and no framing (clickjacking). The values, and why each
 * is what it is, are in src/security-policy.ts. A host that registered @fastify/helmet already
 * keeps its own policy.
 *
 * @fastify/helmet, applied globally, builds helmet's middleware again for every request (its
 * options merged and the policy parsed each time): 6 % of a connection churn's CPU went there
 * (docs/performance.md, "Where a join's time goes"). So it is registered for what it does per
 * route (the pages that extend the policy: `helmet` in their route options) with `global: false`,
 * and every other route gets the same headers from one middleware built here, once. An upgrade
 * request gets them only when it is refused: a socket's 101 is written by `ws`, without them.
 * See @fastify/helmet's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyHelmet from '@fastify/helmet'
import helmet from 'helmet'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { securityHeaders } from '../security-policy.js'

/** A route with its own `helmet` options gets its headers from @fastify/helmet, not from here. */
const hasOwnHelmet = (request: FastifyRequest): boolean => (request.routeOptions.config as { helmet?: unknown }).helmet !== undefined

const securityHeadersPlugin: FastifyPluginAsync = async (fastify) => {
  if (fastify.hasPlugin('@fastify/helmet')) return
  await fastify.register(fastifyHelmet, { ...securityHeaders(), global: false })
  const apply = helmet(securityHeaders())
  fastify.addHook('onRequest', (request, reply, done) => {
    // A WebSocket upgrade gets them only if it is answered over HTTP (refused: onSend below): the
    // 101 that `ws` writes carries none of the reply's headers, so setting them for each upgrade
    // was wasted work.
    if (hasOwnHelmet(request) || request.raw.headers.upgrade !== undefined) {
      done()
      return
    }
    // helmet calls `next` with nothing (it throws its errors since 8.1), so `done` fits as it is.
    apply(request.raw, reply.raw, done as (err?: unknown) => void)
  })
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (request.raw.headers.upgrade === undefined || hasOwnHelmet(request)) {
      done(null, payload)
      return
    }
    apply(request.raw, reply.raw, () => done(null, payload))
  })
}

export default fp(securityHeadersPlugin, { name: 'chat-api-security-headers', fastify: '5.x' })
