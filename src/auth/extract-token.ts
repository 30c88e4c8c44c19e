/**
 * Where a client puts its JWT: `Authorization: Bearer <token>`, or `?access_token=<token>` for
 * browsers, which cannot set headers on a WebSocket. The header wins when both are given.
 */
import type { FastifyRequest } from 'fastify'

export type Extracted =
  | { token: string }
  | { problem: 'missing' | 'malformed_header' | 'malformed_query' }

const BEARER = /^Bearer(?: +(.*))?$/i

export function extractToken (request: FastifyRequest): Extracted {
  const header = request.headers.authorization
  // Another scheme (a browser resending the site's Basic credentials on the upgrade, say) is not
  // ours to judge: the query may still hold the token.
  const bearer = header === undefined ? null : BEARER.exec(header.trim())
  if (bearer !== null) {
    const token = bearer[1]?.trim() ?? ''
    return token === '' || /\s/.test(token) ? { problem: 'malformed_header' } : { token }
  }

  // preValidation runs before the query schema: a repeated parameter is still an array here.
  const query = request.query as Record<string, unknown> | undefined
  const fromQuery = query?.access_token
  if (fromQuery === undefined || fromQuery === '') return { problem: 'missing' }
  return typeof fromQuery === 'string' ? { token: fromQuery } : { problem: 'malformed_query' }
}
