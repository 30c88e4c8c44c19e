/**
 * The heartbeat of one instance. Every PRESENCE_TTL_SEC/5 each instance records its beat (Redis
 * time, in the instances zset, for `/cluster`), its counts (an info hash that expires), and renews
 * the presence leases of its connections, room by room, removing the expired leases of those rooms.
 *
 * The timing, with the TTL as T: a lease lives 3T/5 from its last renewal, so it survives two
 * late or missed beats. An instance that dies renewed its leases at most one period before: they
 * leave every list when they expire (3T/5 after that renewal, by Redis's clock). Each renewal
 * tells when the room's earliest lease expires; a live instance with a member in the room whose
 * next beat comes later than that looks at the room again right then, and removes the expired
 * leases with one `member_left` each. So everything has converged 3T/5 after the death (4T/5 if
 * that extra look is lost with a failed command: the next beat does it); the rest is slack for a
 * loaded machine. No instance claims another's clean-up: one that dies half-way through its rooms
 * leaves nothing behind that the others do not finish.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { RedisLayout } from '../redis/layout.js'
import type { InstanceCounts } from './presence.js'
import type { RedisPresence } from './redis-presence.js'

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
  /**
   * No expiring before this (local clock, ms): after Redis comes back, every instance's leases may
   * have run out meanwhile; an instance that reconnects first must not announce the others' members
   * as gone. They have one TTL to renew theirs.
   */
  private expireAfter = 0
  private beating = false
  /** Counts the link's returns, to tell one that came while a beat ran. */
  private restored = 0

  constructor (private readonly opts: HeartbeatOptions) {}

  get periodMs (): number {
    return Heartbeat.periodMs(this.opts.ttlSec)
  }

  static periodMs (ttlSec: number): number {
    return ttlSec * 1000 / 5
  }

  /** How long a presence lease lives unless renewed: three periods. Also the age of a heartbeat that means dead. */
  static leaseMs (ttlSec: number): number {
    return 3 * Heartbeat.periodMs(ttlSec)
  }

  start (): void {
    this.timer = setInterval(() => { this.beat() }, this.periodMs)
    this.timer.unref()
    this.beat()
  }

  /** Redis is back in reach: beat now (writing every lease again), and give the others time to beat too. */
  linkRestored (): void {
    this.expireAfter = Date.now() + this.opts.ttlSec * 1000
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
      // Instances silent for a whole TTL leave the list (and the list expires with the cluster).
      const [, now] = await client.chatInstanceBeat(layout.instances, instanceId, ttlSec * 1000)
      const info = layout.instanceInfo(instanceId)
      const { connections, rooms } = counts()
      client.hset(info, 'connections', connections, 'rooms', rooms, 'startedAt', this.opts.startedAt, 'lastSeen', now).catch(() => {})
      client.pexpire(info, ttlSec * 1000).catch(() => {})
      await presence.renew(Date.now() >= this.expireAfter, this.periodMs)
    } catch (err) {
      log.debug({ err }, 'presence heartbeat failed')
    } finally {
      this.beating = false
    }
    // Redis came back while this beat ran: beat again now rather than a period later.
    if (this.restored !== restored && this.timer !== null) this.beat()
  }
}
