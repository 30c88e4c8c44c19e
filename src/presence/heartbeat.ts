/**
 * The heartbeat of one instance and the clean-up after dead ones. Every PRESENCE_TTL_SEC/4 each
 * instance records its beat (Redis time, in the instances zset), its counts (an info hash that
 * expires after PRESENCE_TTL_SEC), and looks for instances whose last beat is older than
 * PRESENCE_TTL_SEC/2, i.e. that missed two beats. So a dead instance is found at most 3/4 of the
 * TTL after its last beat: inside the TTL, with a quarter of it left for the clean-up itself.
 *
 * Claiming a dead instance is its ZREM: Redis answers 1 to exactly one claimer. The claimer then
 * removes each entry of the dead instance's set from its room (the leave script: `member_left` only
 * when the entry was still there), then the set. No instance ever asks another for anything: there
 * is no request/response over pub/sub to time out, only keys every instance reads.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { RedisLayout } from '../redis/layout.js'
import type { InstanceCounts } from './presence.js'
import { splitEntry, type RedisPresence } from './redis-presence.js'

export interface HeartbeatOptions {
  presence: RedisPresence
  layout: RedisLayout
  instanceId: string
  startedAt: number
  counts: () => InstanceCounts
  ttlSec: number
  log: FastifyBaseLogger
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null
  /** Redis time of our last beat; null before the first one. */
  private lastBeat: number | null = null
  /**
   * No reaping before this (local clock, ms): after Redis comes back, every instance's beat is
   * old until each has reconnected; an instance that reconnects first must not take the others
   * for dead. They have one TTL to beat again.
   */
  private reapAfter = 0
  private beating = false
  /** Our entries must be written again (Redis came back); done by the next beat that runs. */
  private reassertDue = false
  /** Counts the link's returns, to tell one that came while a beat ran. */
  private restored = 0

  constructor (private readonly opts: HeartbeatOptions) {}

  get periodMs (): number {
    return this.opts.ttlSec * 1000 / 4
  }

  /** Two missed beats. */
  static deadAfterMs (ttlSec: number): number {
    return ttlSec * 1000 / 2
  }

  start (): void {
    this.linkRestored()
    this.timer = setInterval(() => { this.beat() }, this.periodMs)
    this.timer.unref()
  }

  /** Redis is (back) in reach: beat now, re-assert our entries, and give the others time to beat too. */
  linkRestored (): void {
    this.reapAfter = Date.now() + this.opts.ttlSec * 1000
    this.reassertDue = true
    this.restored++
    this.beat()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Never rejects: a failed beat is retried by the next one. */
  async beat (): Promise<void> {
    const { presence, layout, instanceId, counts, ttlSec, log } = this.opts
    if (this.beating || !presence.available) return
    this.beating = true
    const restored = this.restored
    try {
      const client = presence.client
      const [previous, now] = await client.chatInstanceBeat(layout.instances, instanceId)
      const info = layout.instanceInfo(instanceId)
      const { connections, rooms } = counts()
      client.hset(info, 'connections', connections, 'rooms', rooms, 'startedAt', this.opts.startedAt, 'lastSeen', now).catch(() => {})
      client.pexpire(info, ttlSec * 1000).catch(() => {})
      // Not listed though we beat before: Redis lost its data, or another instance took us for
      // dead (a stall longer than the TTL) and cleaned our entries up. Our set is gone likewise
      // when a cleaner finished after we re-asserted.
      const lost = (previous === null && this.lastBeat !== null) ||
        (presence.members.size > 0 && await client.exists(layout.instanceEntries(instanceId)) === 0)
      if (lost) log.warn('this instance\'s presence was missing from Redis; re-asserting it')
      this.lastBeat = now
      if (this.reassertDue || lost) {
        this.reassertDue = false
        await presence.reassert()
      }
      if (Date.now() >= this.reapAfter) await this.reap()
    } catch (err) {
      log.debug({ err }, 'presence heartbeat failed')
    } finally {
      this.beating = false
    }
    // Redis came back while this beat ran: beat again now rather than a period later.
    if (this.restored !== restored && this.timer !== null) this.beat()
  }

  private async reap (): Promise<void> {
    const { presence, layout, instanceId, log } = this.opts
    const client = presence.client
    const dead = await client.chatInstancesSince(layout.instances, Heartbeat.deadAfterMs(this.opts.ttlSec), 'dead')
    for (let i = 0; i < dead.length; i += 2) {
      const id = dead[i]
      if (id === instanceId || await client.zrem(layout.instances, id) !== 1) continue
      try {
        const entries = await client.smembers(layout.instanceEntries(id))
        await Promise.all(entries.map(entry => {
          const parts = splitEntry(entry)
          return parts === null ? undefined : presence.erase(id, parts[0], parts[1])
        }))
        await client.del(layout.instanceEntries(id), layout.instanceInfo(id))
        log.info({ instanceId: id, entries: entries.length }, 'cleaned up the presence of a dead instance')
      } catch (err) {
        // Listed again with its old beat, so that the next beat of any instance retries.
        client.zadd(layout.instances, dead[i + 1], id).catch(() => {})
        log.warn({ err, instanceId: id }, 'cleaning up after a dead instance failed; retrying')
      }
    }
  }
}
