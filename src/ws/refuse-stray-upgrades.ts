/**
 * An `onRoute` hook for every chat-api route: a WebSocket upgrade on a route that takes none
 * (stats, health, docs) is refused with 400 before the handler. @fastify/websocket would otherwise
 * accept it, then log its raw URL, `access_token` included, with the instance logger ("closed
 * incoming websocket connection for path with no websocket handler"), which no request
 * serializer reaches.
 */
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify'

async function refuseUpgrade (request: FastifyRequest, reply: FastifyReply) {
  if (request.ws) {
    return reply.code(400).send({ error: 'not_websocket', message: 'this endpoint does not take WebSocket upgrades' })
  }
}

export function refuseStrayUpgrades (route: RouteOptions & { wsHandler?: unknown, websocket?: boolean }): void {
  if (route.wsHandler === undefined && route.websocket !== true) {
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat()
    route.onRequest = [refuseUpgrade, ...own]
  }
}
