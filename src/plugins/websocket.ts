/**
 * @fastify/websocket with chat-api's limits, unless the host app registered it already (a second
 * copy would answer every upgrade twice). Frame size is enforced again per socket, in case the
 * host's server allows more.
 * See @fastify/websocket's README (in node_modules).
 */
import fp from 'fastify-plugin'
import fastifyWebsocket from '@fastify/websocket'
import type { FastifyPluginAsync } from 'fastify'
import { SUBPROTOCOL } from '../protocol.js'
import { PER_MESSAGE_DEFLATE_OPTIONS } from '../hub/deflate-frame.js'
import { refuseStrayUpgrades } from '../ws/refuse-stray-upgrades.js'

/**
 * ws's default answers the first subprotocol a client offers, whatever it is: a token put there
 * (a trick some clients use to pass credentials) would come back in the 101, where proxies log it.
 * Only our own name is ever selected; any other offer gets no subprotocol.
 */
function selectProtocol (offered: Set<string>): string | false {
  return offered.has(SUBPROTOCOL) ? SUBPROTOCOL : false
}

const websocketPlugin: FastifyPluginAsync = async (fastify) => {
  // Whoever's WebSocket server it is, an upgrade on a route that takes none (stats, health, docs)
  // is refused before the server logs its URL, token included. Registered before any route.
  fastify.addHook('onRoute', refuseStrayUpgrades)
  if (fastify.hasPlugin('@fastify/websocket')) return
  await fastify.register(fastifyWebsocket, {
    options: {
      maxPayload: fastify.config.WS_MAX_MESSAGE_BYTES, // ws closes with 1009 by itself
      // ws negotiates permessage-deflate and inflates what clients send (bounded by maxPayload,
      // decompressed size); chat-api compresses its own frames (hub/deflate-frame.ts).
      perMessageDeflate: fastify.config.WS_COMPRESSION ? { ...PER_MESSAGE_DEFLATE_OPTIONS } : false,
      handleProtocols: selectProtocol
    },
    // Sockets are closed with 1001 by the hub's preClose; here the server only stops accepting.
    // It must not wait for its clients: that would block the hub's hook that closes them.
    preClose (done) {
      fastify.websocketServer.close()
      done()
    },
    // Socket errors (a peer resetting, an oversized frame) are the client's doing, not ours. ws
    // already closes with the right code (1009, 1002...); terminating here could cut that frame off.
    errorHandler (error, _socket, request) {
      request.log.debug({ err: error }, 'websocket error')
    }
  })
}

export default fp(websocketPlugin, { name: 'chat-api-websocket', fastify: '5.x', dependencies: ['chat-api-config'] })
