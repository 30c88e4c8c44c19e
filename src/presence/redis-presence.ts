/**
 * Presence shared by every instance through Redis, as leases. Each member of a room is a lease in
 * that room's keys (presence-renew.lua): its JSON in the room's hash, its expiry in the room's
 * leases zset, both on the room's slot. The instance holding the connection renews its leases at
 * every heartbeat (`renew`); a lease nobody renews (its instance was killed, wedged or cut off)
 * drops out of every list when it expires, and the next renewal of any live instance in that room
 * removes it with one `member_left`. Nothing depends on one instance noticing another's death and
 * surviving the clean-up: time alone makes the lists converge.
 *
 * The joins and leaves of one event-loop turn cost one script call together (presence-batch.ts);
 * messages cost nothing here; each heartbeat costs one script call per 256 local leases, of many
 * rooms (renewal.ts). While Redis is unreachable nothing is written: the next renewal writes every
 * local lease again (telling the rooms of those that were missing), and the leaves Redis missed are
 * written then.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Connection } from '../hub/connection.js'
import type { RedisLayout } from '../redis/layout.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import { shardOfSlot } from '../redis/shards.js'
import { LocalMembers } from './local-members.js'
import { PresenceBatch } from './presence-batch.js'
import { renewalCalls, renewRooms, roomsByShard, sendEachCall, type RoomLeases, type RoomRenewal } from './renewal.js'
import { PRESENCE_MEMBERS_MAX } from '../schemas/frames.js'
import { memberJson, type InstanceInfo, type Presence, type PresenceList, type PresenceStats, type PresenceWatcher } from './presence.js'

export interface RedisPresenceOptions {
  client: Redis | Cluster
  layout: RedisLayout
  instanceId: string
  log: FastifyBaseLogger
  /** How long a lease lives unless renewed; also the age of a heartbeat that means dead. */
  leaseMs: number
}

/** How long past a lease's expiry its room is looked at again. */
const EXPIRY_MARGIN_MS = 20

export class RedisPresence implements Presence {
  readonly members = new LocalMembers()
  readonly client: ScriptedRedis
  watcher: PresenceWatcher | null = null
  private readonly layout: RedisLayout
  private readonly instanceId: string
  private readonly log: FastifyBaseLogger
  private readonly leaseMs: number
  /** Leaves Redis did not get (unreachable, or the write failed), by `room connectionId`: written by the next renewal. */
  private readonly unsentLeaves = new Map<string, [room: string, connectionId: string]>()
  private expired = 0
  private reasserted = 0
  /** Rooms with a lease (another instance's) expiring before the next renewal: expired then, by room. */
  private readonly expiryTimers = new Map<string, ReturnType<typeof setTimeout>>()
  /** How long until the next renewal, as the last one said; rooms whose earliest lease expires sooner get a timer. */
  private horizonMs = 0
  /** Joins and leaves, written together at the end of the turn. */
  readonly changes: PresenceBatch

  constructor (opts: RedisPresenceOptions) {
    this.client = defineScripts(opts.client)
    this.layout = opts.layout
    this.instanceId = opts.instanceId
    this.log = opts.log
    this.leaseMs = opts.leaseMs
    this.changes = new PresenceBatch(this.client, this.layout, this.leaseMs)
  }

  get available (): boolean {
    return this.client.status === 'ready'
  }

  joined (conn: Connection, room: string): void {
    const member = memberJson(conn)
    if (!this.members.add(room, conn.id, member)) return
    this.unsentLeaves.delete(`${room} ${conn.id}`)
    // Not written now: the next renewal writes it (and tells the room then).
    if (!this.available) return
    this.changes.add({ kind: 'j', room, connectionId: conn.id, member }).then(({ announced, untilEarliestMs }) => {
      if (announced) this.watcher?.memberJoined(room, member)
      if (untilEarliestMs >= 0 && untilEarliestMs < this.horizonMs) this.expireAt(room, untilEarliestMs)
    }, this.onWriteError)
  }

  left (conn: Connection, room: string): void {
    const member = this.members.delete(room, conn.id)
    if (member === undefined) return
    if (!this.available) {
      this.unsentLeaves.set(`${room} ${conn.id}`, [room, conn.id])
      return
    }
    this.changes.add({ kind: 'l', room, connectionId: conn.id, member: '' }).then(({ announced }) => {
      if (announced) this.watcher?.memberLeft(room, member)
    }, (err: Error) => {
      this.unsentLeaves.set(`${room} ${conn.id}`, [room, conn.id])
      this.onWriteError(err)
    })
  }

  async list (room: string): Promise<PresenceList | null> {
    if (!this.available) return null
    // Joins and leaves that wait for a call in flight go first: the read sees every one made before it.
    this.changes.flush()
    try {
      const [count, ...members] = await this.client.chatPresenceList(this.layout.presence(room), this.layout.presenceLeases(room), PRESENCE_MEMBERS_MAX)
      return { count, members }
    } catch (err) {
      this.log.warn({ err, room }, 'reading presence failed')
      return null
    }
  }

  async instances (): Promise<InstanceInfo[] | null> {
    if (!this.available) return null
    try {
      const live = await this.client.chatInstancesSince(this.layout.instances, this.leaseMs, 'live')
      const ids = live.filter((_, i) => i % 2 === 0)
      const infos = await Promise.all(ids.map(id => this.client.hmget(this.layout.instanceInfo(id), 'connections', 'rooms', 'startedAt')))
      return ids.map((instanceId, i) => {
        const [connections, rooms, startedAt] = infos[i].map(Number)
        return { instanceId, connections, rooms, startedAt, lastSeen: Number(live[2 * i + 1]) }
      })
    } catch (err) {
      this.log.warn({ err }, 'reading the instances failed')
      return null
    }
  }

  stats (): PresenceStats {
    return { members: this.members.size, expired: this.expired, reasserted: this.reasserted }
  }

  /**
   * One heartbeat's work: the leaves Redis missed, then every local lease renewed, many rooms per
   * call; with `expire`, each of those rooms also loses its expired leases (one `member_left` each).
   * Leases that were missing (Redis lost them, or they expired in a stall longer than a lease) are
   * written again and announced. Rejects if a write failed; the next heartbeat does it all again.
   */
  async renew (expire: boolean, nextRenewalMs: number): Promise<void> {
    if (!this.available) return
    this.horizonMs = expire ? nextRenewalMs : 0
    // Issued in one go, before anything is awaited: a leave that follows reaches Redis after them.
    const writes: Array<Promise<unknown>> = []
    for (const [key, [room, connectionId]] of this.unsentLeaves) {
      this.unsentLeaves.delete(key)
      writes.push(this.leave(room, connectionId).catch((err: Error) => {
        if (!this.members.has(room, connectionId)) this.unsentLeaves.set(key, [room, connectionId])
        throw err
      }))
    }
    const shardOf = (room: string): string => shardOfSlot(this.client, this.changes.slotOf(room))
    const calls = renewalCalls(roomsByShard(this.members.roomNames(), shardOf), room => this.members.entries(room))
    writes.push(sendEachCall(() => {
      // Joins waiting for a call in flight are written and announced by it, never found missing by
      // a renewal that overtook them.
      this.changes.flush()
      return calls.next()
    }, call => this.renewCall(call, expire, true)))
    const outcomes = await Promise.allSettled(writes)
    const failed = outcomes.find(outcome => outcome.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /**
   * Clears this instance from the instance list at shutdown (its sockets have left their rooms
   * already, which removed their leases). Not awaited: the commands go out before the connection's
   * QUIT, which Redis runs after them, and a frozen or lost Redis must not hold the shutdown (the
   * leases then expire, as after a crash).
   */
  close (): void {
    for (const timer of this.expiryTimers.values()) clearTimeout(timer)
    this.expiryTimers.clear()
    this.horizonMs = 0
    if (!this.available) return
    this.changes.flush() // the leaves of the sockets closed in the hub's preClose
    // Explicit one-command pipelines go out now whatever the client's auto-pipelining (which would
    // hold commands to the next tick), ahead of the QUIT; one pipeline per slot, for a cluster.
    this.client.pipeline().zrem(this.layout.instances, this.instanceId).exec().catch(this.onWriteError)
    this.client.pipeline().del(this.layout.instanceInfo(this.instanceId)).exec().catch(this.onWriteError)
  }

  /**
   * Removes the expired leases of a room this instance may have no member in (webhooks: the last
   * members of a killed instance); tells the watcher. Resolves with whether any lease is left.
   */
  async expireRoom (room: string): Promise<boolean> {
    const [outcome] = await this.renewCall([{ room, pairs: [] }], true, false)
    return outcome.untilEarliestMs >= 0
  }

  /**
   * Puts the leases of a call's rooms, and with `expire` removes their expired leases; tells the
   * watcher, counts what it found. With `renewal`, leases that were missing are logged. Rejects
   * with the first room that failed, once every other room's outcome is told.
   */
  private async renewCall (call: RoomLeases[], expire: boolean, renewal: boolean): Promise<RoomRenewal[]> {
    const outcomes = await renewRooms(this.client, this.layout, this.leaseMs, expire, call)
    const renewed: RoomRenewal[] = []
    for (const outcome of outcomes) {
      if (outcome instanceof Error) continue
      const { room, added, removed, untilEarliestMs } = outcome
      this.expired += removed.length
      for (const member of removed) this.watcher?.memberLeft(room, member)
      if (untilEarliestMs >= 0 && untilEarliestMs < this.horizonMs) this.expireAt(room, untilEarliestMs)
      if (renewal && added > 0) {
        this.reasserted += added
        // Joined while Redis was unreachable, lost by Redis, or expired while this instance stalled.
        this.log.info({ room, leases: added }, 'presence leases missing from Redis were written again')
      }
      renewed.push(outcome)
    }
    const failed = outcomes.find(outcome => outcome instanceof Error)
    if (failed !== undefined) throw failed
    return renewed
  }

  /**
   * Removes a room's expired leases once the earliest has run out: a dead instance's members are
   * announced when their leases expire, not up to a heartbeat later. Only while renewals may
   * expire leases (`horizonMs` > 0), and once per room at a time.
   */
  private expireAt (room: string, inMs: number): void {
    if (this.expiryTimers.has(room)) return
    // A little past the expiry: Redis's clock decides, and a lease is expired only once its time has passed.
    const timer = setTimeout(() => {
      this.expiryTimers.delete(room)
      if (this.horizonMs === 0 || !this.available || !this.members.hasRoom(room)) return
      this.renewCall([{ room, pairs: [] }], true, false).catch(this.onWriteError)
    }, inMs + EXPIRY_MARGIN_MS)
    timer.unref()
    this.expiryTimers.set(room, timer)
  }

  /** Removes a connection's lease from a room; the room hears `member_left` only if it was there. */
  private leave (room: string, connectionId: string): Promise<number> {
    const { layout } = this
    return this.client.chatPresenceLeave(layout.presence(room), layout.presenceLeases(room), connectionId, room, layout.room(room), layout.roomPublish)
  }

  // A write lost with the link is redone by the renewal that follows.
  private readonly onWriteError = (err: Error): void => {
    this.log.debug({ err }, 'a presence write failed')
  }
}
