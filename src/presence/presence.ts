/**
 * Presence: who is in a room on every instance, and which instances live. The hub tells the
 * presence of each connection that joins a room (once its `joined` was sent) and each that leaves
 * it (a `leave`, or the socket closing); messages never come here, so the fan-out pays nothing.
 *
 * Two implementations: in-process (no Redis, one instance) and Redis (redis-presence.ts).
 */
import type { Connection } from '../hub/connection.js'
import type { PresencePort } from '../hub/presence-port.js'
import type { FrameId } from '../schemas/frames.js'

/** `members` of a presence answer list at most this many; `count` is the total. */
export { PRESENCE_MEMBERS_MAX } from '../schemas/frames.js'

export interface PresenceList {
  count: number
  /** Each member as JSON `{"connectionId","user","meta"?}`, exactly as stored: joined without parsing. */
  members: string[]
}

export interface InstanceInfo {
  instanceId: string
  connections: number
  rooms: number
  /** Epoch ms. */
  startedAt: number
  /** Epoch ms of the last heartbeat. */
  lastSeen: number
}

/**
 * The hub calls `joined` and `left` only, through the interface it declares (hub/presence-port.ts);
 * the rest is added to that interface here, so that `hub.presence`, through which the sockets,
 * routes and metrics reach presence, carries all of it without the hub importing this feature.
 */
declare module '../hub/presence-port.js' {
  interface PresencePort {
    /** Every member of the room on every instance; null while Redis is unreachable. */
    list (room: string): Promise<PresenceList | null>
    /** Every live instance; null while Redis is unreachable. */
    instances (): Promise<InstanceInfo[] | null>
    /** What this instance's presence holds and did, for the metrics. */
    stats (): PresenceStats
    /** Set by the webhooks plugin. */
    watcher: PresenceWatcher | null
    /** Removes this instance's presence at shutdown, without waiting for Redis. */
    close (): void
  }
}

export type Presence = PresencePort

/**
 * Told of each presence change this instance made (webhooks): a member added, a member removed (a
 * leave, or, with Redis, an expired lease of a dead instance this instance removed). Each change is
 * told to exactly one instance: the one whose write made it.
 */
export interface PresenceWatcher {
  memberJoined (room: string, member: string): void
  memberLeft (room: string, member: string): void
}

export interface PresenceStats {
  /** Presence entries of this instance's connections now: one per connection and room. */
  members: number
  /** Expired leases (of dead instances) this instance removed, each announced with one `member_left`; since start. */
  expired: number
  /** Leases of this instance found missing from Redis and written again; since start. */
  reasserted: number
}

/** What this instance counts, for `/cluster`. */
export interface InstanceCounts {
  connections: number
  rooms: number
}

/** The connection's presence entry: without `meta`, the very string its messages carry as `from` (one per socket, whatever its rooms). */
export function memberJson (conn: Connection): string {
  const member = conn.identityJson
  // `meta` is the connect hook's JSON, checked and serialised once at the upgrade.
  return conn.meta === null ? member : `${member.slice(0, -1)},"meta":${conn.meta}}`
}

/** A `member_joined` / `member_left` frame; the room passed the naming rule, so it needs no escaping. */
export function memberEvent (type: 'member_joined' | 'member_left', room: string, member: string): Buffer {
  return Buffer.from(`{"type":"${type}","room":"${room}","member":${member}}`)
}

/** The body of a presence answer, members as stored; `head` is `{"type":"presence",...` or `{`. */
export function presenceBody (head: string, room: string, list: PresenceList, id?: FrameId): string {
  const tail = id === undefined ? '}' : `,"id":${JSON.stringify(id)}}`
  return `${head}"room":"${room}","count":${list.count},"members":[${list.members.join(',')}]${tail}`
}
