/**
 * A RedisPresence on a redis-server of the test's own, for tests that count what presence asks of
 * Redis: an admin connection (INFO commandstats, the keys), and the member events its scripts
 * publish, each told as `describe` says, in the order Redis published them.
 */
import { Redis } from 'ioredis'
import type { Connection } from '../../../src/hub/connection.js'
import { RedisPresence } from '../../../src/presence/redis-presence.js'
import { redisLayout, type RedisLayout } from '../../../src/redis/layout.js'
import { eventually } from '../../helper.js'
import { holdingProxy } from '../../helpers/holding-proxy.js'
import { quietLog } from '../../helpers/quiet-log.js'
import { ThrowAwayRedis, uniquePrefix } from '../../redis-helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface MemberEvent { type: string, room: string, member: { connectionId: string } }

export interface OwnRedisPresence {
  presence: RedisPresence
  admin: Redis
  layout: RedisLayout
  /** The member events published so far, as `describe` told them. */
  events: string[]
}

/** A connection as presence sees it: an id, a user, no connect meta, its identity serialised once. */
export const conn = (id: string, user: string | null = null): Connection =>
  ({ id, principal: { user }, meta: null, identityJson: JSON.stringify({ connectionId: id, user }) }) as unknown as Connection

/** `replyDelayMs`: presence's own connection reaches Redis through a proxy that delays each answer. */
export async function presenceOnOwnRedis (t: Teardown, describe: (event: MemberEvent) => string, { replyDelayMs = 0 } = {}): Promise<OwnRedisPresence> {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(replyDelayMs > 0 ? (await holdingProxy(t, redis.url, { replyDelayMs })).url : redis.url)
  const admin = new Redis(redis.url)
  const listener = new Redis(redis.url)
  t.teardown(() => { client.disconnect(); admin.disconnect(); listener.disconnect() })
  const layout = redisLayout(uniquePrefix())
  const presence = new RedisPresence({ client, layout, instanceId: 'i1', log: quietLog, leaseMs: 60_000 })
  await eventually(() => presence.available)
  const events: string[] = []
  await listener.psubscribe(layout.room('*'))
  listener.on('pmessage', (_pattern, _channel, payload: string) => {
    events.push(describe(JSON.parse(payload.slice(payload.indexOf('\n') + 1)) as MemberEvent))
  })
  return { presence, admin, layout, events }
}
