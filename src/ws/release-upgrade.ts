/**
 * Once a socket is upgraded, @fastify/websocket still holds its HTTP exchange for as long as the
 * socket lives: the ServerResponse it made stays assigned to the TCP socket (`_httpMessage`), and
 * the per-socket 'error' listener it adds closes over Fastify's request and reply. Headers, parser
 * leftovers, Fastify's request, reply and child logger: about 3 KB of an idle connection's 7.5 KB
 * of heap. Releasing them brings chat-api's memory per socket close to plain ws.
 *
 * The swapped-in listener logs as chat-api's own `errorHandler` does (debug, with the request's
 * logger, which is all it keeps); the ServerResponse is detached the way Node does after a reply.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'

export function releaseUpgrade (socket: WebSocket, log: FastifyBaseLogger): void {
  const tcp = (socket as unknown as { _socket?: Socket & { _httpMessage?: ServerResponse | null } })._socket
  const response = tcp?._httpMessage
  if (tcp != null && response != null && typeof response.detachSocket === 'function') response.detachSocket(tcp)
  // Socket errors are the client's doing (a reset, a bad frame); ws closes with the right code itself.
  socket.removeAllListeners('error')
  socket.on('error', (err) => log.debug({ err }, 'websocket error'))
}
