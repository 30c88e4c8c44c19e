/**
 * `GET /users/{user}/read-state` (the `unread` answer, for a backend or a page without a socket)
 * and `GET /users/{user}/status` (online, sockets, last seen; cluster-wide). Refusals in the order
 * of the other read routes: 404 feature off, then 401/403.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ANONYMOUS, mayJoin } from '../hub/principal.js'
import { API_PRINCIPAL } from '../plugins/api-auth.js'
import { ErrorCode } from '../protocol.js'
import { UNAVAILABLE } from '../read-state/read-state.js'
import { AuthQuerySchema } from '../schemas/http.js'
import { ReadStateResponseSchema, UserParamsSchema, UserStatusResponseSchema } from '../schemas/read-state.js'

const readStateRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { apiAuth, readState } = fastify
  const unavailable = (reply: FastifyReply) => reply.code(503).send({ error: UNAVAILABLE.code, message: UNAVAILABLE.message })

  /** The API key, or the user's own token. */
  async function mayReadCursors (request: FastifyRequest, reply: FastifyReply) {
    if (readState.state === null) {
      return reply.code(404).send({ error: ErrorCode.HISTORY_DISABLED, message: 'read state needs offsets: history is off (HISTORY_SIZE=0)' })
    }
    const refused = await apiAuth.reader(request, reply)
    if (refused !== undefined) return refused
    const { user } = request.params as { user: string }
    if (request.principal !== API_PRINCIPAL && request.principal?.user !== user) {
      return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: 'only the user itself (or the API key) may read its read state' })
    }
  }

  fastify.get('/users/:user/read-state', {
    schema: {
      tags: ['read-state'],
      summary: 'A user\'s unread counts: every room it has a read cursor in',
      security: apiAuth.readSecurity,
      params: UserParamsSchema,
      querystring: AuthQuerySchema,
      response: {
        200: ReadStateResponseSchema,
        401: Type.Ref('ErrorResponse', { description: 'The token (or API key) is missing or invalid' }),
        403: Type.Ref('ErrorResponse', { description: 'A token of another user' }),
        404: Type.Ref('ErrorResponse', { description: '`history_disabled`: HISTORY_SIZE=0' }),
        503: Type.Ref('ErrorResponse', { description: '`unavailable`: Redis is configured but unreachable' })
      }
    },
    preValidation: mayReadCursors
  }, async (request, reply) => {
    const principal = request.principal ?? ANONYMOUS
    const outcome = await readState.state?.unread(request.params.user, null, room => mayJoin(principal, room))
    if (outcome === undefined || !outcome.ok) return unavailable(reply)
    return { rooms: outcome.rooms }
  })

  fastify.get('/users/:user/status', {
    schema: {
      tags: ['read-state'],
      summary: 'Whether a user is online on any instance, with how many sockets, and when it was last seen',
      security: apiAuth.readSecurity,
      params: UserParamsSchema,
      querystring: AuthQuerySchema,
      response: {
        200: UserStatusResponseSchema,
        401: Type.Ref('ErrorResponse', { description: 'Auth is on and the token (or API key) is missing or invalid' }),
        503: Type.Ref('ErrorResponse', { description: '`unavailable`: Redis is configured but unreachable' })
      }
    },
    preValidation: apiAuth.reader
  }, async (request, reply) => {
    const { user } = request.params
    let now
    try {
      now = await readState.status.status(user)
    } catch (err) {
      request.log.warn({ err }, 'a user status could not be read')
    }
    if (now === undefined || now === null) return unavailable(reply)
    return { user, online: now.connections > 0, connections: now.connections, lastSeen: now.lastSeen }
  })
}

export default readStateRoutes
