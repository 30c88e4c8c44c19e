/**
 * Presence shared by every instance through Redis. Each entry lives twice: in the room's presence
 * hash (what lists read; its scripts publish the member events on the room's channel) and in the
 * instance's own entries set (what a cleaner reads when this instance dies). The two sit on
 * different slots of a Redis Cluster, so they are written by separate commands, never one script:
 * the set first on a join and last on a leave, so that the set always covers the hash.
 *
 * Joins and leaves cost one script and one set command each; messages cost nothing here. While
 * Redis is unreachable nothing is written: when it is back (`ready`), or when a heartbeat finds
 * this instance's keys gone, `reassert` writes the local entries again and removes the stale ones.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { Cluster, Redis } from 'ioredis'
import type { Connection } from '../hub/connection.js'
import type { RedisLayout } from '../redis/layout.js'
import { defineScripts, type ScriptedRedis } from '../redis/scripts.js'
import { LocalMembers } from './local-members.js'
import { PRESENCE_MEMBERS_MAX } from '../schemas/frames.js'
import { memberJson, type InstanceInfo, type Presence, type PresenceList } from './presence.js'

export interface RedisPresenceOptions {
  client: Redis | Cluster
  layout: RedisLayout
  instanceId: string
  log: FastifyBaseLogger
  /** An instance whose heartbeat is older than this is dead. */
  deadAfterMs: number
}

/** An entry of an instance's set: room names hold no space, so the first one splits it. */
export const entryOf = (room: string, connectionId: string): string => `${room} ${connectionId}`
export function splitEntry (entry: string): [room: string, connectionId: string] | null {
  const space = entry.indexOf(' ')
  return space > 0 ? [entry.slice(0, space), entry.slice(space + 1)] : null
}

export class RedisPresence implements Presence {
  readonly members = new LocalMembers()
  readonly client: ScriptedRedis
  private readonly layout: RedisLayout
  private readonly instanceId: string
  private readonly log: FastifyBaseLogger
  private readonly deadAfterMs: number
  private readonly ownEntries: string

  constructor (opts: RedisPresenceOptions) {
    this.client = defineScripts(opts.client)
    this.layout = opts.layout
    this.instanceId = opts.instanceId
    this.log = opts.log
    this.deadAfterMs = opts.deadAfterMs
    this.ownEntries = opts.layout.instanceEntries(opts.instanceId)
  }

  get available (): boolean {
    return this.client.status === 'ready'
  }

  joined (conn: Connection, room: string): void {
    const member = memberJson(conn)
    if (this.members.add(room, conn.id, member) && this.available) this.write(room, conn.id, member)
  }

  left (conn: Connection, room: string): void {
    if (this.members.delete(room, conn.id) !== undefined && this.available) {
      this.erase(this.instanceId, room, conn.id).catch(this.onWriteError)
    }
  }

  async list (room: string): Promise<PresenceList | null> {
    if (!this.available) return null
    try {
      const [count, ...members] = await this.client.chatPresenceList(this.layout.presence(room), PRESENCE_MEMBERS_MAX)
      return { count, members }
    } catch (err) {
      this.log.warn({ err, room }, 'reading presence failed')
      return null
    }
  }

  async instances (): Promise<InstanceInfo[] | null> {
    if (!this.available) return null
    try {
      const live = await this.client.chatInstancesSince(this.layout.instances, this.deadAfterMs, 'live')
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

  /**
   * Writes every local entry again (a Redis restarted without its data, or this instance claimed
   * as dead after a long stall) and removes those of its set that are no longer local (left while
   * Redis was unreachable). The join script tells the rooms only of entries that were missing, so
   * after a short outage members hear exactly what changed meanwhile.
   */
  async reassert (): Promise<void> {
    if (!this.available) return
    // Issued in one go, before anything is awaited: a leave that follows reaches Redis after them.
    for (const [room, connectionId, member] of this.members.entries()) this.write(room, connectionId, member)
    const stored = await this.client.smembers(this.ownEntries)
    for (const entry of stored) {
      const parts = splitEntry(entry)
      if (parts !== null && !this.members.has(parts[0], parts[1])) this.erase(this.instanceId, parts[0], parts[1]).catch(this.onWriteError)
    }
  }

  /**
   * Removes an entry of `instanceId` from its room and from the instance's set; the room hears
   * `member_left` only if the entry was there. Resolves once Redis ran both; rejects if it did not.
   */
  erase (instanceId: string, room: string, connectionId: string): Promise<unknown> {
    const { layout } = this
    // The room first: if this instance dies in between, its cleaner still finds the entry.
    return Promise.all([
      this.client.chatPresenceLeave(layout.presence(room), connectionId, room, layout.room(room), layout.roomPublish),
      this.client.srem(layout.instanceEntries(instanceId), entryOf(room, connectionId))
    ])
  }

  /**
   * Clears this instance from Redis at shutdown (its sockets have left their rooms already).
   * Not awaited: the commands go out before the connection's QUIT, which Redis runs after them,
   * and a frozen or lost Redis must not hold the shutdown (the others clean up, as after a crash).
   */
  close (): void {
    if (!this.available) return
    // Explicit one-command pipelines go out now whatever the client's auto-pipelining (which would
    // hold commands to the next tick), ahead of the QUIT; one pipeline per slot, for a cluster.
    this.client.pipeline().zrem(this.layout.instances, this.instanceId).exec().catch(this.onWriteError)
    this.client.pipeline().del(this.ownEntries, this.layout.instanceInfo(this.instanceId)).exec().catch(this.onWriteError)
  }

  private write (room: string, connectionId: string, member: string): void {
    const { layout } = this
    // The set first: if this instance dies in between, its cleaner still finds the entry.
    this.client.sadd(this.ownEntries, entryOf(room, connectionId)).catch(this.onWriteError)
    this.client.chatPresenceJoin(layout.presence(room), connectionId, member, room, layout.room(room), layout.roomPublish)
      .catch(this.onWriteError)
  }

  // A write lost with the link is redone by the reassert that follows the link's return.
  private readonly onWriteError = (err: Error): void => {
    this.log.debug({ err }, 'a presence write failed')
  }
}
