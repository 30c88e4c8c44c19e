/**
 * `GET /ws/stats`: this instance's open sockets and room sizes. Same token as the sockets, or the
 * API key. A token with a `rooms` claim sees only those rooms: room names are not public (a
 * direct-message room names both people in it).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { HubStats } from '../hub/hub.js'
import { ANONYMOUS, type Principal } from '../hub/principal.js'
import { AuthQuerySchema, StatsResponseSchema } from '../schemas/http.js'

/** The stats a principal may see: every room for the key, an admin or a token without `rooms`. */
export function statsFor (stats: HubStats, principal: Principal): HubStats {
  const allowed = principal.rooms
  if (allowed === null || principal.isAdmin) return stats
  const rooms: Record<string, number> = Object.create(null)
  // The claim is short and the instance may hold many rooms: look each claimed room up.
  for (const room of allowed) {
    const count = stats.rooms[room]
    if (count !== undefined) rooms[room] = count
  }
  return { ...stats, rooms }
}

const statsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/ws/stats', {
    schema: {
      tags: ['stats'],
      summary: 'Connection and room counts of this instance (a token with a `rooms` claim sees only those rooms)',
      security: fastify.apiAuth.readSecurity,
      querystring: AuthQuerySchema,
      response: {
        200: StatsResponseSchema,
        401: Type.Ref('ErrorResponse', { description: 'Auth is on and the token is missing or invalid, or a wrong API key' })
      }
    },
    preValidation: fastify.apiAuth.reader
  }, async (request) => statsFor(fastify.hub.stats(), request.principal ?? ANONYMOUS))
}

export default statsRoutes
