/** `GET /ws/stats`: this instance's open sockets and room sizes. Same token as the sockets, or the API key. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { AuthQuerySchema, StatsResponseSchema } from '../schemas/http.js'

const statsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/ws/stats', {
    schema: {
      tags: ['stats'],
      summary: 'Connection and room counts of this instance',
      security: fastify.apiAuth.readSecurity,
      querystring: AuthQuerySchema,
      response: {
        200: StatsResponseSchema,
        401: Type.Ref('ErrorResponse', { description: 'Auth is on and the token is missing or invalid, or a wrong API key' })
      }
    },
    preValidation: fastify.apiAuth.reader
  }, async () => fastify.hub.stats())
}

export default statsRoutes
