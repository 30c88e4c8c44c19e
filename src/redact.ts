/**
 * Request log serializer that never writes a token: browsers send the JWT as `access_token` in
 * the query string, and Fastify's default serializer logs the whole URL.
 */
import type { FastifyRequest } from 'fastify'

const TOKEN_IN_QUERY = /([?&]access_token=)[^&#]*/gi

export function redactUrl (url: string): string {
  return url.replace(TOKEN_IN_QUERY, '$1[redacted]')
}

export function redactRequest (request: FastifyRequest) {
  return {
    method: request.method,
    url: redactUrl(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort
  }
}
