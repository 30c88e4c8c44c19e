/**
 * Delayed marks (delayed-marks.ts) for a cluster, in Redis:
 *
 * - The mark is a key on the key's own slot, set with NX: one instance raises the up event.
 * - Down checks are a zset every instance polls (scores: when due), so a killed instance's checks
 *   are run by another. A later down pushes the check forward.
 * - A killed instance's keys: nobody renews or removes their leases any more. Each instance records
 *   when its keys' leases would expire unless renewed (a zset, pushed forward at each renewal); a
 *   key past that is handed to its kind (`unrenewed`) by whichever instance polls first.
 */
import type { FastifyInstance } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import { Heartbeat } from '../presence/heartbeat.js'
import type { RedisLayout } from '../redis/layout.js'
import type { DelayedMarks, MarkEvents, MarksContext } from './delayed-marks.js'

/** How often due checks and unrenewed keys are looked for. */
export const CHECK_EVERY_MS = 500
/** Keys looked at per poll, at most: a backlog is worked off over the next polls. */
const CHECK_BATCH = 100
/** Keys per ZADD of a renewal. */
const RENEW_BATCH = 500

/** Removes a zset member only if its score is still the one read: a later ZADD moved it forward. */
const REMOVE_IF_SCORE = `if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0`

export interface RedisMarksContext extends MarksContext {
  client: Redis | Cluster
  layout: RedisLayout
  prefix: string
  /** How long a lease lives unless renewed, and how often this instance renews (from PRESENCE_TTL_SEC). */
  leaseMs: number
  periodMs: number
  log: FastifyInstance['log']
}

export interface RedisMarkKind extends MarkEvents {
  /** Its zsets' names in the webhooks' slot (kept as they are: in a rolling upgrade both versions share them). */
  checksName: string
  leasedName: string
  /** The key's mark, on the key's own slot. */
  mark: (key: string) => string
  /** The keys with a lease on this instance. */
  localKeys: () => Iterable<string>
  /** False while polling would fail (Redis unreachable). */
  available: () => boolean
  /**
   * A key whose leases should have been renewed by now (its instance may be dead): the kind looks,
   * and `forget`s it, `recheckLater`s it, or leaves it for the next poll. False stops this poll.
   */
  unrenewed: (key: string, score: string, now: number) => Promise<boolean>
  /** A due check: clears the mark if no lease is live, in one step; the down event's data if it did, else null. */
  unmark: (key: string, score: string) => Promise<string | null>
  /** The debug log line of a write that failed. */
  writeFailed: string
}

export class RedisMarks implements DelayedMarks {
  private readonly checks: string
  private readonly leased: string
  private timers: NodeJS.Timeout[] = []
  private polling = false

  constructor (private readonly context: RedisMarksContext, private readonly kind: RedisMarkKind) {
    this.checks = `${context.prefix}:{webhooks}:${kind.checksName}`
    this.leased = `${context.prefix}:{webhooks}:${kind.leasedName}`
  }

  start (): void {
    const poll = setInterval(() => { this.poll() }, CHECK_EVERY_MS)
    const renew = setInterval(() => { this.renew() }, this.context.periodMs)
    poll.unref()
    renew.unref()
    this.timers = [poll, renew]
  }

  stop (): void {
    for (const timer of this.timers) clearInterval(timer)
  }

  /** After the lease was written: a check that finds no live lease clears the mark first, or sees this lease. */
  up (key: string): void {
    const { client, leaseMs, webhooks } = this.context
    client.zadd(this.leased, 'GT', Date.now() + leaseMs, key).catch(this.failed)
    client.set(this.kind.mark(key), '1', 'NX').then(set => {
      if (set === 'OK') webhooks.emit(this.kind.up, this.kind.upData(key))
    }, this.failed)
  }

  /** `key` may have no lease left: its check is due the delay from now. */
  down (key: string): void {
    this.context.client.zadd(this.checks, Date.now() + this.context.delayMs, key).catch(this.failed)
  }

  /** For `unrenewed`: its check queued, due the delay from `now`, unless one is queued already. */
  async queueCheck (key: string, now: number): Promise<void> {
    await this.context.client.zadd(this.checks, 'NX', now + this.context.delayMs, key)
  }

  /** For `unrenewed`: looked at again a renewal period from `now`. */
  async recheckLater (key: string, now: number): Promise<void> {
    await this.context.client.zadd(this.leased, 'GT', now + this.context.periodMs, key)
  }

  /** For `unrenewed`: not looked at again, unless its score was pushed forward since it was read. */
  async forget (key: string, score: string): Promise<void> {
    await this.context.client.eval(REMOVE_IF_SCORE, 1, this.leased, key, score)
  }

  /** Pushes forward when this instance's keys would be left unrenewed. */
  private renew (): void {
    const keys = [...this.kind.localKeys()]
    const score = Date.now() + this.context.leaseMs
    for (let i = 0; i < keys.length; i += RENEW_BATCH) {
      const args = keys.slice(i, i + RENEW_BATCH).flatMap(key => [score, key])
      this.context.client.zadd(this.leased, 'GT', ...args).catch(this.failed)
    }
  }

  private poll (): void {
    if (this.polling || !this.kind.available()) return
    this.polling = true
    this.runDue().catch(this.failed).finally(() => { this.polling = false })
  }

  private async runDue (): Promise<void> {
    const { client, webhooks } = this.context
    const now = Date.now()
    const unrenewed = await client.zrangebyscore(this.leased, '-inf', now, 'WITHSCORES', 'LIMIT', 0, CHECK_BATCH)
    for (let i = 0; i < unrenewed.length; i += 2) {
      if (!(await this.kind.unrenewed(unrenewed[i], unrenewed[i + 1], now))) return
    }
    const due = await client.zrangebyscore(this.checks, '-inf', now, 'WITHSCORES', 'LIMIT', 0, CHECK_BATCH)
    for (let i = 0; i < due.length; i += 2) {
      const [key, score] = [due[i], due[i + 1]]
      const data = await this.kind.unmark(key, score)
      if (data !== null) webhooks.emit(this.kind.down, data)
      await client.eval(REMOVE_IF_SCORE, 1, this.checks, key, score)
    }
  }

  private readonly failed = (err: Error): void => {
    this.context.log.debug({ err }, this.kind.writeFailed)
  }
}

/** The Redis side's settings, from the app: presence's lease and renewal period (PRESENCE_TTL_SEC). */
export function redisMarksContext (
  fastify: FastifyInstance,
  redis: { client: Redis | Cluster, layout: RedisLayout },
  context: MarksContext
): RedisMarksContext {
  const { config } = fastify
  return {
    ...context,
    client: redis.client,
    layout: redis.layout,
    prefix: config.REDIS_CHANNEL_PREFIX,
    leaseMs: Heartbeat.leaseMs(config.PRESENCE_TTL_SEC),
    periodMs: Heartbeat.periodMs(config.PRESENCE_TTL_SEC),
    log: fastify.log
  }
}

/** Polls and renews from now until the app closes. */
export function runUntilClose (fastify: FastifyInstance, marks: RedisMarks): void {
  marks.start()
  fastify.addHook('onClose', async () => { marks.stop() })
}
