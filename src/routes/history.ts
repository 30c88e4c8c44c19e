/**
 * `GET /rooms/{room}/history`: the `history` frame for HTTP clients (a page that loads before its
 * socket, a backend). Refusals in the contract's order: 400 bad room (schema), 404 history off,
 * then 401/403 as at the upgrade.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { readHistory } from '../history/read-history.js'
import { ANONYMOUS, mayJoin } from '../hub/principal.js'
import { ErrorCode } from '../protocol.js'
import { HistoryQuerySchema, HistoryResponseSchema, RoomParamsSchema, roomReadRefusals } from '../schemas/http.js'

const historyRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { hub, apiAuth } = fastify

  async function allowed (request: FastifyRequest, reply: FastifyReply) {
    if (!hub.historyEnabled) {
      return reply.code(404).send({ error: ErrorCode.HISTORY_DISABLED, message: 'history is off (HISTORY_SIZE=0)' })
    }
    // A token allowed to join the room, or the server API's key.
    const refused = await apiAuth.reader(request, reply)
    if (refused !== undefined) return refused
    const { room } = request.params as { room: string }
    if (!mayJoin(request.principal ?? ANONYMOUS, room)) {
      return reply.code(403).send({ error: ErrorCode.FORBIDDEN, message: `not allowed to read "${room}"` })
    }
  }

  fastify.get('/rooms/:room/history', {
    schema: {
      tags: ['history'],
      summary: 'The last stored messages of a room, oldest first',
      security: apiAuth.readSecurity,
      params: RoomParamsSchema,
      querystring: HistoryQuerySchema,
      response: {
        200: HistoryResponseSchema,
        ...roomReadRefusals('`invalid_room`, or `bad_request` when limit/before are not positive integers', '`history_disabled`: HISTORY_SIZE=0')
      }
    },
    preHandler: allowed
  }, async (request, reply) => {
    const { room } = request.params
    const { limit, before } = request.query
    const page = await readHistory(hub.historyStore, room, limit, before)
    if (!page.ok) return reply.code(page.code === ErrorCode.UNAVAILABLE ? 503 : 404).send({ error: page.code, message: page.message })
    // The stored frames go out as they are; the response schema documents them.
    return reply.type('application/json; charset=utf-8').send(page.body(JSON.stringify({ room, epoch: page.epoch, offset: page.offset })))
  })
}

export default historyRoutes
