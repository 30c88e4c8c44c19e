/**
 * Security headers on every answer of chat-api's context (the demo, Swagger UI, the AsyncAPI page,
 * and the JSON routes alike), through @fastify/helmet: a Content-Security-Policy under which only
 * the service's own scripts and styles run, `nosniff`, no referrer, and no framing (clickjacking).
 * The values, and why each is what it is, are in src/security-policy.ts. A host that registered
 * @fastify/helmet already keeps its own policy.
 * See @fastify/helmet's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyHelmet from '@fastify/helmet'
import type { FastifyPluginAsync } from 'fastify'
import { securityHeaders } from '../security-policy.js'

const securityHeadersPlugin: FastifyPluginAsync = async (fastify) => {
  if (fastify.hasPlugin('@fastify/helmet')) return
  await fastify.register(fastifyHelmet, securityHeaders())
}

export default fp(securityHeadersPlugin, { name: 'chat-api-security-headers', fastify: '5.x' })
