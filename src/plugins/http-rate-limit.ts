/**
 * The HTTP budget: HTTP_RATE_LIMIT_PER_MIN requests per minute per caller (the API key, a
 * verified token's `sub`, else the address), past it 429 `rate_limited` with Retry-After. Without
 * it one client could read the history of thousands of room names a second, each read creating
 * state. Routes with `config: { rateLimit: false }` are not counted: /health, /ready and /metrics
 * (probes and scrapers), and the WebSocket upgrades, which admission control bounds instead.
 *
 * The limiter is one context-level onRequest hook, registered before any other, so a caller is
 * counted before anything else is done for it (credentials, content type, body).
 * See @fastify/rate-limit's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import type { FastifyPluginAsync } from 'fastify'
import { ErrorCode } from '../protocol.js'

const MINUTE_MS = 60_000

class RateLimited extends Error {
  readonly code = ErrorCode.RATE_LIMITED
  readonly statusCode = 429
}

const httpRateLimitPlugin: FastifyPluginAsync = async (fastify) => {
  const max = fastify.config.HTTP_RATE_LIMIT_PER_MIN
  if (max === 0) return
  const { apiAuth } = fastify
  await fastify.register(fastifyRateLimit, {
    // Not per route: our own hook below runs first, before the routes' own onRequest hooks.
    global: false,
    max,
    timeWindow: MINUTE_MS,
    keyGenerator: (request) => apiAuth.callerKey(request),
    // Thrown, then answered `{ error, message }` by the error handler like every other 4xx.
    errorResponseBuilder: (_request, context) => new RateLimited(`more than ${max} requests per minute; retry in ${context.after}`)
  })
  const limit = fastify.rateLimit()
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.rateLimit === false) return
    await limit.call(fastify, request, reply)
  })
}

export default fp(httpRateLimitPlugin, { name: 'chat-api-http-rate-limit', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-api-auth'] })
