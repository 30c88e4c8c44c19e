/**
 * The `readState` decorator (src/read-state/): read cursors and unread counts (history on), and
 * who is online (always). In Redis and shared by every instance when Redis is configured, else in
 * this process. Status leases follow presence's timing (PRESENCE_TTL_SEC).
 */
import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import { Heartbeat } from '../presence/heartbeat.js'
import { MemoryCursors, MemoryTops, MemoryUserStatus } from '../read-state/memory-stores.js'
import { ReadFrames } from '../read-state/read-frames.js'
import { hubReceipts, ReadState } from '../read-state/read-state.js'
import { RedisReceipts } from '../read-state/redis-receipts.js'
import { RedisCursors, RedisTops } from '../read-state/redis-stores.js'
import { RedisUserStatus } from '../read-state/redis-user-status.js'
import type { UserStatusStore } from '../read-state/stores.js'

declare module 'fastify' {
  interface FastifyInstance {
    readState: ReadStateFeature
  }
}

export interface ReadStateFeature {
  /** Null while history is off (no offsets, so no cursors). */
  state: ReadState | null
  status: UserStatusStore
  frames: ReadFrames
}

const readStatePlugin: FastifyPluginAsync = async (fastify) => {
  const { READ_STATE_TTL_SEC, PRESENCE_TTL_SEC, HISTORY_TTL_SEC } = fastify.config
  const { hub, chatApiRedis: redis } = fastify
  const history = hub.historyStore
  let status: UserStatusStore
  let state: ReadState | null = null
  if (redis === null) {
    status = new MemoryUserStatus(READ_STATE_TTL_SEC)
    if (history !== null) {
      state = new ReadState({ cursors: new MemoryCursors(READ_STATE_TTL_SEC), tops: new MemoryTops(history), status, receipts: hubReceipts(hub), log: fastify.log })
    }
  } else {
    const { client, layout } = redis
    status = new RedisUserStatus({
      client, layout, ttlSec: READ_STATE_TTL_SEC, log: fastify.log, leaseMs: Heartbeat.leaseMs(PRESENCE_TTL_SEC), periodMs: Heartbeat.periodMs(PRESENCE_TTL_SEC)
    })
    if (history !== null) {
      const opts = { client, layout, ttlSec: READ_STATE_TTL_SEC, historyTtlSec: HISTORY_TTL_SEC, newEpoch: () => hub.nextMessageId() }
      state = new ReadState({ cursors: new RedisCursors(opts), tops: new RedisTops(opts), status, receipts: new RedisReceipts({ client, layout, log: fastify.log }), log: fastify.log })
    }
  }
  fastify.decorate('readState', { state, status, frames: new ReadFrames(state) } satisfies ReadStateFeature)

  // Registered after the redis plugin, so this runs before its client quits (as presence does).
  fastify.addHook('onClose', async () => {
    if (state !== null) state.close()
    else status.close()
  })
}

export default fp(readStatePlugin, { name: 'chat-api-read-state', fastify: '5.x', dependencies: ['chat-api-config', 'chat-api-hub', 'chat-api-redis'] })
