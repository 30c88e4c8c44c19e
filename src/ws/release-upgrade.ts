/**
 * Once a socket is upgraded, @fastify/websocket still holds its HTTP exchange for as long as the
 * socket lives: the ServerResponse it made stays assigned to the TCP socket (`_httpMessage`), and
 * the per-socket 'error' listener it adds closes over Fastify's request and reply. Headers, parser
 * leftovers, Fastify's request, reply and child logger: about 3 KB of an idle connection's 7.5 KB
 * of heap. Releasing them brings chat-api's memory per socket close to plain ws.
 *
 * What is left after that, per idle socket (heap snapshots, docs/performance.md "100 000 idle
 * sockets"), and dropped here too:
 * - the 'error' listeners are replaced by `onError`, one function shared by every socket, so no
 *   socket keeps a closure for them, nor the request's child logger (a Pino object and its own
 *   copy of the serializers: a few hundred bytes a socket);
 * - the TCP socket's idle timer: Node arms one on each connection (Fastify's connectionTimeout)
 *   and ws clears it when it takes the socket, but the cleared Timeout stays referenced by the
 *   socket (with its numbers, about 170 bytes). It is inert; the reference is dropped.
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'

type Tcp = Socket & { _httpMessage?: ServerResponse | null } & Record<symbol, unknown>

/** Node's own key for a socket's idle timer (`Symbol('timeout')`), once a socket showed it. */
let timerKey: symbol | undefined

export function releaseUpgrade (socket: WebSocket, onError: (this: WebSocket, err: Error) => void): void {
  const tcp = (socket as unknown as { _socket?: Tcp })._socket
  const response = tcp?._httpMessage
  if (tcp != null && response != null && typeof response.detachSocket === 'function') response.detachSocket(tcp)
  // Socket errors are the client's doing (a reset, a bad frame); ws closes with the right code itself.
  socket.on('error', onError)
  for (const listener of socket.listeners('error')) {
    if (listener !== onError) socket.removeListener('error', listener as (...args: unknown[]) => void)
  }
  if (tcp != null) dropIdleTimer(tcp)
}

/** Forgets the socket's cleared idle timer; a timer still armed (a time-out set since) is left alone. */
function dropIdleTimer (tcp: Tcp): void {
  timerKey ??= Object.getOwnPropertySymbols(tcp).find(key => key.description === 'timeout')
  if (timerKey === undefined || tcp.timeout !== 0) return
  const timer = tcp[timerKey] as { _idleTimeout?: number } | null
  // clearTimeout marks a timer with -1; Node reads the key as "no timer" when it is null.
  if (timer != null && timer._idleTimeout === -1) tcp[timerKey] = null
}
