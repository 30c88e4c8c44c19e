/**
 * Every HTTP error of chat-api is JSON `{ error, message }` with a stable code. Validation of the
 * room name in the path or query maps to `invalid_room`; 5xx details are logged, never sent.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, INVALID_ROOM_MESSAGE } from './protocol.js'

export function errorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.validation) {
    const badRoom = error.validation.some(issue => issue.instancePath === '/room')
    return reply.code(400).send({
      error: badRoom ? ErrorCode.INVALID_ROOM : 'bad_request',
      message: badRoom ? INVALID_ROOM_MESSAGE : error.message
    })
  }
  const statusCode = error.statusCode !== undefined && error.statusCode >= 400 ? error.statusCode : 500
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed')
    return reply.code(statusCode).send({ error: 'internal_error', message: 'internal server error' })
  }
  return reply.code(statusCode).send({ error: clientErrorCode(error, statusCode), message: error.message })
}

/** Fastify's own 4xx (body parsing, size) get our stable codes, not its FST_ERR_* names. */
function clientErrorCode (error: FastifyError, statusCode: number): string {
  if (statusCode === 413) return 'too_large'
  if (statusCode === 415) return 'unsupported_media_type'
  return error.code === undefined || error.code.startsWith('FST_') ? 'bad_request' : error.code
}

export function notFoundHandler (request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
}

/**
 * Errors Fastify raises before routing (a URL that is not valid %-encoding): they skip the
 * hooks, so an upgrade request's socket is closed here. A broken room in `/ws/...` is a room
 * name that breaks the rule.
 */
export function frameworkErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (request.raw.headers.upgrade !== undefined) reply.raw.once('finish', () => request.raw.socket.destroy())
  const badRoom = error.code === 'FST_ERR_BAD_URL' && (request.raw.url ?? '').includes('/ws/')
  return reply.code(400).send({
    error: badRoom ? ErrorCode.INVALID_ROOM : 'bad_request',
    message: badRoom ? INVALID_ROOM_MESSAGE : 'the URL is not valid'
  })
}
