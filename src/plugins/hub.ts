/**
 * The `hub` decorator: this instance's room registry, the heartbeat that finds dead sockets, and
 * the first step of graceful shutdown (every socket closed with 1001, bounded in time).
 */
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { MemoryHistory } from '../history/memory-history.js'
import { Hub } from '../hub/hub.js'
import { CloseCode } from '../protocol.js'

declare module 'fastify' {
  interface FastifyInstance {
    hub: Hub
  }
}

/** What a terminated socket's peer sees (no close frame is sent); the closes counter files them under it. */
const TERMINATED = 1006

const hubPlugin: FastifyPluginAsync = async (fastify) => {
  const { WS_HEARTBEAT_MS, SHUTDOWN_TIMEOUT_MS } = fastify.config
  const hub = new Hub(fastify.log)
  fastify.decorate('hub', hub)
  // With Redis, the redis plugin puts the shared history in place instead.
  const { HISTORY_SIZE, HISTORY_TTL_SEC, REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES } = fastify.config
  const redis = REDIS_URL ?? REDIS_SENTINELS ?? REDIS_CLUSTER_NODES
  if (HISTORY_SIZE > 0 && redis === undefined) {
    hub.useHistory(new MemoryHistory({
      size: HISTORY_SIZE,
      ttlSec: HISTORY_TTL_SEC,
      deliver: (room, offset, epoch, frame) => hub.deliverStored(room, offset, epoch, frame)
    }))
  }

  // One timer for all sockets (ws FAQ "How to detect and close broken connections?").
  const heartbeat = WS_HEARTBEAT_MS > 0
    ? setInterval(() => {
      for (const conn of hub.connections) {
        if (!conn.alive) {
          conn.socket.terminate()
          hub.observer?.closed(TERMINATED)
          continue
        }
        conn.alive = false
        conn.socket.ping()
      }
    }, WS_HEARTBEAT_MS)
    : null
  heartbeat?.unref()

  fastify.addHook('preClose', async () => {
    hub.closing = true
    if (heartbeat !== null) clearInterval(heartbeat)
    const sockets = [...hub.connections].map(conn => conn.socket)
    const closed = Promise.all(sockets.map(socket => once(socket, 'close')))
    for (const conn of hub.connections) conn.close(CloseCode.GOING_AWAY, 'server shutting down')
    // A peer that never answers the close handshake must not hold the shutdown past its bound:
    // half of it goes to the handshakes, the rest to the HTTP server and Redis.
    const ac = new AbortController()
    await Promise.race([closed, sleep(SHUTDOWN_TIMEOUT_MS / 2, undefined, { signal: ac.signal }).catch(() => {})])
    ac.abort()
    for (const socket of sockets) socket.terminate()
  })

  fastify.addHook('onClose', async () => {
    await hub.closeBroker()
  })
}

export default fp(hubPlugin, { name: 'chat-api-hub', fastify: '5.x', dependencies: ['chat-api-config'] })
