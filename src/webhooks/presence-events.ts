/**
 * room.* and member.* events, from presence (src/presence/), so that they are true for the whole
 * cluster: presence tells exactly one instance of each change (the one whose write made it, the
 * removal of a killed instance's expired leases included), and that instance raises the event.
 *
 * - member.joined / member.left: as `member_joined` / `member_left`.
 * - room.occupied: a member joined a room that is not marked occupied; the mark (a key on the
 *   room's slot, set with NX) makes one instance raise it.
 * - room.vacated: each member.left queues a check, due WEBHOOK_VACATED_DELAY_MS later, in a zset
 *   every instance polls (in Redis: a killed instance's checks are run by another). The check
 *   raises room.vacated only if the room has no live lease then and its mark was still set (DEL
 *   tells one instance), so a member who comes back within the delay makes no pair of events.
 * - The last members of a killed instance: nobody renews their room any more, so no heartbeat
 *   expires their leases. Each instance records, for its rooms, when their leases would expire
 *   unless renewed (a zset, scores pushed forward at each renewal); a room past that is looked at
 *   by whichever instance polls first, which removes the expired leases (member.left each) and so
 *   queues the vacancy check.
 *
 * With PRESENCE_ENABLED=false there is no cluster-wide membership to be true about: these events
 * are not sent (the start-up log says so); message.stored still is. user.online / user.offline come
 * from read-state's user status instead (user-events.ts).
 */
import type { FastifyInstance } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { Heartbeat } from '../presence/heartbeat.js'
import { LocalPresence } from '../presence/local-presence.js'
import type { PresenceWatcher } from '../presence/presence.js'
import { RedisPresence } from '../presence/redis-presence.js'
import type { RedisLayout } from '../redis/layout.js'
import type { Webhooks } from './webhooks.js'

/** How often due vacancy checks and unrenewed rooms are looked for. */
export const CHECK_EVERY_MS = 500
/** Rooms looked at per poll, at most: a backlog is worked off over the next polls. */
const CHECK_BATCH = 100

const OCCUPY = "return redis.call('SET', KEYS[1], '1', 'NX') and 1 or 0"
/** KEYS[1] the room's leases zset, KEYS[2] its occupied mark. 1: the room is vacated (and the mark was ours to clear). */
const VACATE = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf') > 0 then return 0 end
return redis.call('DEL', KEYS[2])`
/** Removes a zset member only if its score is still the one read: a later ZADD moved it forward. */
const REMOVE_IF_SCORE = `if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`

export interface WatchPresenceOptions {
  fastify: FastifyInstance
  webhooks: Webhooks
  delayMs: number
}

/** `{"room":"R","connectionId":..,"user":..}` from the stored member JSON `{"connectionId","user"}`. */
function memberData (room: string, member: string): string {
  return `{"room":"${room}",${member.slice(1)}`
}

/** Wires the events; returns what the start-up log says about them. */
export function watchPresence ({ fastify, webhooks, delayMs }: WatchPresenceOptions): string {
  const presence = fastify.hub.presence
  if (presence === null) return 'room and member events off: PRESENCE_ENABLED=false (message.stored only)'
  if (presence instanceof LocalPresence) {
    presence.watcher = new LocalRoomEvents(presence, webhooks, delayMs)
    return 'room and member events from this instance\'s presence'
  }
  const redis = fastify.chatApiRedis
  if (!(presence instanceof RedisPresence) || redis === null) return 'room and member events off'
  const events = new RedisRoomEvents({
    presence,
    webhooks,
    delayMs,
    client: redis.client,
    layout: redis.layout,
    prefix: fastify.config.REDIS_CHANNEL_PREFIX,
    leaseMs: Heartbeat.leaseMs(fastify.config.PRESENCE_TTL_SEC),
    periodMs: Heartbeat.periodMs(fastify.config.PRESENCE_TTL_SEC),
    log: fastify.log
  })
  presence.watcher = events
  events.start()
  fastify.addHook('onClose', async () => { events.stop() })
  return 'room and member events from the cluster\'s presence (Redis)'
}

/** One instance: its presence is everyone's. */
class LocalRoomEvents implements PresenceWatcher {
  private readonly occupied = new Set<string>()
  private readonly vacancies = new Map<string, NodeJS.Timeout>()

  constructor (private readonly presence: LocalPresence, private readonly webhooks: Webhooks, private readonly delayMs: number) {}

  memberJoined (room: string, member: string): void {
    this.webhooks.emit('member.joined', memberData(room, member))
    if (this.occupied.has(room)) return
    this.occupied.add(room)
    this.webhooks.emit('room.occupied', `{"room":"${room}"}`)
  }

  memberLeft (room: string, member: string): void {
    this.webhooks.emit('member.left', memberData(room, member))
    if (this.presence.hasRoom(room) || this.vacancies.has(room)) return
    const timer = setTimeout(() => {
      this.vacancies.delete(room)
      if (!this.presence.hasRoom(room) && this.occupied.delete(room)) this.webhooks.emit('room.vacated', `{"room":"${room}"}`)
    }, this.delayMs)
    timer.unref()
    this.vacancies.set(room, timer)
  }
}

interface RedisRoomEventsOptions {
  presence: RedisPresence
  webhooks: Webhooks
  delayMs: number
  client: Redis | Cluster
  layout: RedisLayout
  prefix: string
  leaseMs: number
  periodMs: number
  log: FastifyInstance['log']
}

class RedisRoomEvents implements PresenceWatcher {
  private readonly checks: string
  private readonly leased: string
  private timers: NodeJS.Timeout[] = []
  private polling = false

  constructor (private readonly opts: RedisRoomEventsOptions) {
    this.checks = `${opts.prefix}:{webhooks}:checks`
    this.leased = `${opts.prefix}:{webhooks}:leased`
  }

  start (): void {
    const poll = setInterval(() => { this.poll() }, CHECK_EVERY_MS)
    const renew = setInterval(() => { this.renew() }, this.opts.periodMs)
    poll.unref()
    renew.unref()
    this.timers = [poll, renew]
  }

  stop (): void {
    for (const timer of this.timers) clearInterval(timer)
  }

  memberJoined (room: string, member: string): void {
    const { webhooks, client } = this.opts
    webhooks.emit('member.joined', memberData(room, member))
    client.zadd(this.leased, 'GT', Date.now() + this.opts.leaseMs, room).catch(this.failed)
    client.eval(OCCUPY, 1, this.occupiedKey(room)).then(set => {
      if (set === 1) webhooks.emit('room.occupied', `{"room":"${room}"}`)
    }, this.failed)
  }

  memberLeft (room: string, member: string): void {
    this.opts.webhooks.emit('member.left', memberData(room, member))
    this.opts.client.zadd(this.checks, Date.now() + this.opts.delayMs, room).catch(this.failed)
  }

  private occupiedKey (room: string): string {
    return `${this.opts.prefix}:{${room}}:webhook-occupied`
  }

  /** Pushes forward when this instance's rooms would be left unrenewed. */
  private renew (): void {
    const rooms = [...this.opts.presence.members.byRoom()].map(([room]) => room)
    const score = Date.now() + this.opts.leaseMs
    for (let i = 0; i < rooms.length; i += 500) {
      const args = rooms.slice(i, i + 500).flatMap(room => [score, room])
      this.opts.client.zadd(this.leased, 'GT', ...args).catch(this.failed)
    }
  }

  private poll (): void {
    if (this.polling || !this.opts.presence.available) return
    this.polling = true
    this.runDue().catch(this.failed).finally(() => { this.polling = false })
  }

  private async runDue (): Promise<void> {
    const { client, layout, presence, webhooks } = this.opts
    const now = String(Date.now())
    const unrenewed = await client.zrangebyscore(this.leased, '-inf', now, 'WITHSCORES', 'LIMIT', 0, CHECK_BATCH)
    for (let i = 0; i < unrenewed.length; i += 2) {
      const [room, score] = [unrenewed[i], unrenewed[i + 1]]
      if (!(await presence.expireRoom(room))) await client.eval(REMOVE_IF_SCORE, 1, this.leased, room, score)
    }
    const due = await client.zrangebyscore(this.checks, '-inf', now, 'WITHSCORES', 'LIMIT', 0, CHECK_BATCH)
    for (let i = 0; i < due.length; i += 2) {
      const [room, score] = [due[i], due[i + 1]]
      if (await client.eval(VACATE, 2, layout.presenceLeases(room), this.occupiedKey(room)) === 1) {
        webhooks.emit('room.vacated', `{"room":"${room}"}`)
      }
      await client.eval(REMOVE_IF_SCORE, 1, this.checks, room, score)
    }
  }

  private readonly failed = (err: Error): void => {
    this.opts.log.debug({ err }, 'a webhook presence write failed')
  }
}
