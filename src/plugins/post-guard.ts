/**
 * No cross-site POSTs. A POST with no body, or a form's content type, is a CORS "simple request":
 * a browser sends it from any page without asking the service first. Requiring
 * `Content-Type: application/json` makes every cross-site POST need a preflight, which nothing
 * here answers; an `Origin` outside WS_ALLOWED_ORIGINS is refused outright. Both are checked in
 * `onRequest`, before credentials and before any body is read.
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { FORBIDDEN_ORIGIN } from '../hub/admission.js'

export const UNSUPPORTED_MEDIA_TYPE = 'unsupported_media_type'

/** `application/json`, with parameters (`; charset=utf-8`) or not, in any case. */
export function isJson (contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  return contentType.split(';', 1)[0].trim().toLowerCase() === 'application/json'
}

const postGuardPlugin: FastifyPluginAsync = async (fastify) => {
  const { admission } = fastify
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'POST') return
    if (!isJson(request.headers['content-type'])) {
      return reply.code(415).send({ error: UNSUPPORTED_MEDIA_TYPE, message: 'a POST must have Content-Type: application/json' })
    }
    if (!admission.originAllowed(request.headers.origin)) {
      return reply.code(403).send({ error: FORBIDDEN_ORIGIN, message: 'this origin may not call the server API' })
    }
  })
}

export default fp(postGuardPlugin, { name: 'chat-api-post-guard', fastify: '5.x', dependencies: ['chat-api-admission'] })
