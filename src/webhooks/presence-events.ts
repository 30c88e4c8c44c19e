/**
 * Presence-driven events (room.*, member.*, user.*): not wired yet; only message.stored is sent.
 */
import type { FastifyInstance } from 'fastify'
import type { Webhooks } from './webhooks.js'

export interface WatchPresenceOptions {
  fastify: FastifyInstance
  webhooks: Webhooks
  delayMs: number
}

/** What the start-up log says about presence events. */
export function watchPresence (_opts: WatchPresenceOptions): string {
  return 'not sent (message.stored only)'
}
