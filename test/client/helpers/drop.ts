/**
 * Cuts a client's connection from the server's side, as a crash or a network cut would: the raw
 * TCP socket of its upgrade is destroyed. Clients are told apart by a `tag` query parameter (the
 * server ignores it), and a reconnect under the same tag replaces the socket to cut.
 */
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyInstance } from 'fastify'

export function serverSideDropper (app: FastifyInstance): (tag: string) => void {
  const byTag = new Map<string, Duplex>()
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    const tag = new URL(request.url ?? '/', 'http://localhost').searchParams.get('tag')
    if (tag !== null) byTag.set(tag, socket)
  })
  return (tag) => {
    const socket = byTag.get(tag)
    if (socket === undefined) throw new Error(`no upgrade tagged ${tag}`)
    socket.destroy()
  }
}
