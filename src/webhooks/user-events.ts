/**
 * user.online and user.offline, from read-state's user status (src/read-state/), which keeps one
 * lease per socket of a user on every instance, and on the pattern of room.occupied / room.vacated
 * (presence-events.ts):
 *
 * - user.online: a new lease of a user was written; the user's online mark (a key on the user's
 *   slot, set with NX after the lease) makes one instance raise it.
 * - user.offline: a socket's close left the user no live lease; a check is queued, due
 *   WEBHOOK_VACATED_DELAY_MS later, in a zset every instance polls. It reads the status (expired
 *   leases removed, as the status endpoint does) and deletes the mark if no lease is live, in one
 *   script: only then, and only by that instance, is user.offline raised, with the status's
 *   lastSeen. A reconnect within the delay makes no pair of events.
 * - The users of a killed instance: nobody closes their sockets. Each instance records when its
 *   users' leases would expire unless renewed (a zset, pushed forward at each renewal); a user past
 *   that whose leases have all expired gets its check queued by whichever instance polls first.
 *
 * Auth off, sockets have no user: these events are not sent.
 */
import type { FastifyInstance } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { Heartbeat } from '../presence/heartbeat.js'
import { MemoryUserStatus } from '../read-state/memory-stores.js'
import { RedisUserStatus } from '../read-state/redis-user-status.js'
import type { UserStatusWatcher } from '../read-state/stores.js'
import type { RedisLayout } from '../redis/layout.js'
import { CHECK_EVERY_MS } from './presence-events.js'
import type { Webhooks } from './webhooks.js'

/** Users looked at per poll, at most: a backlog is worked off over the next polls. */
const CHECK_BATCH = 100

/** Removes a zset member only if its score is still the one read: a later ZADD moved it forward. */
const REMOVE_IF_SCORE = `if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`

export interface WatchUsersOptions {
  fastify: FastifyInstance
  webhooks: Webhooks
  delayMs: number
}

const onlineData = (user: string): string => `{"user":${JSON.stringify(user)}}`
const offlineData = (user: string, lastSeen: number): string => `{"user":${JSON.stringify(user)},"lastSeen":${lastSeen}}`

/** Wires the events; returns what the start-up log says about them. */
export function watchUsers ({ fastify, webhooks, delayMs }: WatchUsersOptions): string {
  if (!webhooks.wants('user.online') && !webhooks.wants('user.offline')) return 'user events not asked for (WEBHOOK_EVENTS)'
  if (!fastify.config.AUTH_ENABLED) return 'user events off: AUTH_ENABLED=false (sockets have no user)'
  const status = fastify.readState.status
  if (status instanceof MemoryUserStatus) {
    status.watcher = new LocalUserEvents(status, webhooks, delayMs)
    return 'user events from this instance\'s sockets'
  }
  const redis = fastify.chatApiRedis
  if (!(status instanceof RedisUserStatus) || redis === null) return 'user events off'
  const events = new RedisUserEvents({
    status,
    webhooks,
    delayMs,
    client: redis.client,
    layout: redis.layout,
    prefix: fastify.config.REDIS_CHANNEL_PREFIX,
    leaseMs: Heartbeat.leaseMs(fastify.config.PRESENCE_TTL_SEC),
    periodMs: Heartbeat.periodMs(fastify.config.PRESENCE_TTL_SEC),
    log: fastify.log
  })
  status.watcher = events
  events.start()
  fastify.addHook('onClose', async () => { events.stop() })
  return 'user events from the cluster\'s user status (Redis)'
}

/** One instance: its sockets are everyone's. */
class LocalUserEvents implements UserStatusWatcher {
  private readonly online = new Set<string>()
  private readonly checks = new Map<string, NodeJS.Timeout>()

  constructor (private readonly status: MemoryUserStatus, private readonly webhooks: Webhooks, private readonly delayMs: number) {}

  socketOpened (user: string): void {
    if (this.online.has(user)) return
    this.online.add(user)
    this.webhooks.emit('user.online', onlineData(user))
  }

  socketClosed (user: string, live: number): void {
    if (live > 0) return
    // A second last close (after a reconnect) restarts the delay: it counts from the last one.
    const pending = this.checks.get(user)
    if (pending !== undefined) {
      pending.refresh()
      return
    }
    const timer = setTimeout(() => { this.check(user) }, this.delayMs)
    timer.unref()
    this.checks.set(user, timer)
  }

  private check (user: string): void {
    this.checks.delete(user)
    this.status.status(user).then(now => {
      if (now.connections === 0 && this.online.delete(user)) {
        this.webhooks.emit('user.offline', offlineData(user, now.lastSeen ?? Date.now() - this.delayMs))
      }
    }, () => {})
  }
}

interface RedisUserEventsOptions {
  status: RedisUserStatus
  webhooks: Webhooks
  delayMs: number
  client: Redis | Cluster
  layout: RedisLayout
  prefix: string
  leaseMs: number
  periodMs: number
  log: FastifyInstance['log']
}

class RedisUserEvents implements UserStatusWatcher {
  private readonly checks: string
  private readonly leased: string
  private timers: NodeJS.Timeout[] = []
  private polling = false

  constructor (private readonly opts: RedisUserEventsOptions) {
    this.checks = `${opts.prefix}:{webhooks}:user-checks`
    this.leased = `${opts.prefix}:{webhooks}:users-leased`
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

  /** After the lease was written: a check that finds no live lease deletes the mark first, or sees this lease. */
  socketOpened (user: string): void {
    const { client, layout, webhooks, leaseMs } = this.opts
    client.zadd(this.leased, 'GT', Date.now() + leaseMs, user).catch(this.failed)
    client.set(layout.userOnlineMark(user), '1', 'NX').then(set => {
      if (set === 'OK') webhooks.emit('user.online', onlineData(user))
    }, this.failed)
  }

  socketClosed (user: string, live: number): void {
    if (live > 0) return
    this.opts.client.zadd(this.checks, Date.now() + this.opts.delayMs, user).catch(this.failed)
  }

  /** Pushes forward when this instance's users would be left unrenewed. */
  private renew (): void {
    const users = [...this.opts.status.localUsers()]
    const score = Date.now() + this.opts.leaseMs
    for (let i = 0; i < users.length; i += 500) {
      const args = users.slice(i, i + 500).flatMap(user => [score, user])
      this.opts.client.zadd(this.leased, 'GT', ...args).catch(this.failed)
    }
  }

  private poll (): void {
    if (this.polling || this.opts.client.status !== 'ready') return
    this.polling = true
    this.runDue().catch(this.failed).finally(() => { this.polling = false })
  }

  private async runDue (): Promise<void> {
    const { client, layout, status, webhooks, delayMs, periodMs } = this.opts
    const now = Date.now()
    const unrenewed = await client.zrangebyscore(this.leased, '-inf', now, 'WITHSCORES', 'LIMIT', 0, CHECK_BATCH)
    for (let i = 0; i < unrenewed.length; i += 2) {
      const [user, score] = [unrenewed[i], unrenewed[i + 1]]
      const seen = await status.status(user)
      if (seen === null) return
      if (seen.connections > 0) {
        // A lease Redis's clock has not expired yet, or an instance that does not renew here: look again later.
        await client.zadd(this.leased, 'GT', now + periodMs, user)
        continue
      }
      await client.zadd(this.checks, 'NX', now + delayMs, user)
      await client.eval(REMOVE_IF_SCORE, 1, this.leased, user, score)
    }
    const due = await client.zrangebyscore(this.checks, '-inf', now, 'WITHSCORES', 'LIMIT', 0, CHECK_BATCH)
    for (let i = 0; i < due.length; i += 2) {
      const [user, score] = [due[i], due[i + 1]]
      const checked = await status.statusUnmarking(user, layout.userOnlineMark(user))
      if (checked.unmarked) webhooks.emit('user.offline', offlineData(user, checked.lastSeen ?? Number(score) - delayMs))
      await client.eval(REMOVE_IF_SCORE, 1, this.checks, user, score)
    }
  }

  private readonly failed = (err: Error): void => {
    this.opts.log.debug({ err }, 'a webhook user status write failed')
  }
}
