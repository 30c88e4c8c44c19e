/**
 * `GET /rooms/{room}/presence` (the `presence` frame for HTTP clients) and `GET /cluster` (the live
 * instances, from their heartbeats). Refusals in the order of the history route: 400 bad room
 * (schema), 404 presence off, then 401/403 as at the upgrade; `/cluster` takes the stats route's token.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { ANONYMOUS, mayJoin } from '../hub/principal.js'
import { ErrorCode } from '../protocol.js'
import { PRESENCE_DISABLED, PRESENCE_UNAVAILABLE, readPresence } from '../presence/read-presence.js'
import { AuthQuerySchema, ClusterResponseSchema, PresenceResponseSchema, RoomParamsSchema, roomReadRefusals } from '../schemas/http.js'

const presenceRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { hub, apiAuth } = fastify
  const disabled = (reply: FastifyReply) => reply.code(404).send({ error: PRESENCE_DISABLED.code, message: PRESENCE_DISABLED.message })
  const unavailable = (reply: FastifyReply) => reply.code(503).send({ error: PRESENCE_UNAVAILABLE.code, message: PRESENCE_UNAVAILABLE.message })

  async function mayReadRoom (request: FastifyRequest, reply: FastifyReply) {
    if (hub.presence === null) return disabled(reply)
    // A token allowed to join the room, or the server API's key.
    const refused = await apiAuth.reader(request, reply)
    if (refused !== undefined) return refused
    const { room } = request.params as { room: string }
    if (!mayJoin(request.principal ?? ANONYMOUS, room)) {
      return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: `not allowed to read "${room}"` })
    }
  }

  async function mayReadCluster (request: FastifyRequest, reply: FastifyReply) {
    if (hub.presence === null) return disabled(reply)
    return apiAuth.reader(request, reply)
  }

  fastify.get('/rooms/:room/presence', {
    schema: {
      tags: ['presence'],
      summary: 'Every connection in a room, on every instance',
      security: apiAuth.readSecurity,
      params: RoomParamsSchema,
      querystring: AuthQuerySchema,
      response: {
        200: PresenceResponseSchema,
        ...roomReadRefusals('`invalid_room`', '`presence_disabled`: PRESENCE_ENABLED=false')
      }
    },
    preHandler: mayReadRoom
  }, async (request, reply) => {
    const page = await readPresence(hub.presence, request.params.room)
    if (!page.ok) return page.code === ErrorCode.UNAVAILABLE ? unavailable(reply) : disabled(reply)
    // The stored members go out as they are; the response schema documents them.
    return reply.type('application/json; charset=utf-8').send(page.body('{'))
  })

  fastify.get('/cluster', {
    schema: {
      tags: ['presence'],
      summary: 'The live instances of the cluster with their counts, from their heartbeats',
      security: apiAuth.readSecurity,
      querystring: AuthQuerySchema,
      response: {
        200: ClusterResponseSchema,
        401: Type.Ref('ErrorResponse', { description: 'Auth is on and the token is missing or invalid, or a wrong API key' }),
        404: Type.Ref('ErrorResponse', { description: '`presence_disabled`: PRESENCE_ENABLED=false' }),
        503: Type.Ref('ErrorResponse', { description: '`unavailable`: Redis is configured but unreachable' })
      }
    },
    preValidation: mayReadCluster
  }, async (_request, reply) => {
    const instances = await hub.presence?.instances()
    if (instances === undefined) return disabled(reply)
    if (instances === null) return unavailable(reply)
    return { instances }
  })
}

export default presenceRoutes
