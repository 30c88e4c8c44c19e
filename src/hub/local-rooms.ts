/**
 * The rooms of one instance and their local members: joins, leaves, and delivery. Frames arrive
 * here already serialised; delivering one costs a write per local member and nothing else. The hub
 * (hub.ts) is these rooms plus the publishing side, which reaches them on every instance.
 *
 * A room's stored messages are delivered by its feed (room-feed.ts), in offset order; everything
 * else (broadcasts, transient messages, history off) goes to the local members as it comes.
 */
import { LocalBroker, type Broker } from './broker.js'
import type { Connection } from './connection.js'
import type { HistoryStore, Position } from './history-port.js'
import type { HubLog } from './hub-log.js'
import type { JoinReply } from './joiners.js'
import type { HubObserver } from './observer.js'
import { OutgoingFrame } from './outgoing-frame.js'
import type { PresencePort } from './presence-port.js'
import { RoomFeed } from './room-feed.js'
import { newJoiner, Room } from './room.js'

/**
 * How long a room stays open once its last local member left: still subscribed, its feed still in
 * step with the history. A connection that joins it meanwhile (short connections coming and going)
 * is answered at once, as in any open room: no subscription and no history read for the room's
 * position before its `joined`, no unsubscription after. Then the room is closed. It is not
 * counted nor listed (stats, metrics) while nobody is in it.
 */
export const ROOM_LINGER_MS = 2000

export class LocalRooms {
  readonly connections = new Set<Connection>()
  /** Set by the metrics plugin; told once per message, never per recipient. */
  observer: HubObserver | null = null
  /** Set by the presence plugin (null: PRESENCE_ENABLED=false): told of each join, once `joined` is sent, and each leave. */
  presence: PresencePort | null = null
  protected readonly rooms = new Map<string, Room>()
  protected broker: Broker = new LocalBroker()
  protected history: HistoryStore | null = null
  private readonly feed: RoomFeed
  /** Open rooms nobody is in, each with when it emptied, oldest first: closed ROOM_LINGER_MS later. */
  private readonly idle = new Map<Room, number>()
  private sweeper: ReturnType<typeof setTimeout> | null = null

  constructor (protected readonly log: HubLog = { warn () {} }) {
    this.feed = new RoomFeed({
      fanOut: (room, frame) => this.fanOut(room, frame),
      history: () => this.history,
      isCurrent: (room) => this.rooms.get(room.name) === room,
      linked: () => this.broker.status() !== 'reconnecting',
      replayed: (frames) => this.observer?.replayed(frames),
      epochChanged: () => this.observer?.epochChanged(),
      log
    })
  }

  add (conn: Connection): void {
    this.connections.add(conn)
  }

  remove (conn: Connection): void {
    if (!this.connections.delete(conn)) return
    for (const room of conn.rooms) this.leave(conn, room)
  }

  /**
   * Adds the connection to the room. `reply` is called once the room receives every instance's
   * messages, after the replay of what came after `since` (when asked and possible) and before any
   * live message; the promise settles after it. Idempotent.
   */
  join (conn: Connection, name: string, since: Position | null, reply: JoinReply): Promise<void> {
    let room = this.rooms.get(name)
    if (room === undefined) room = this.openRoom(name)
    else this.idle.delete(room)
    if (room.has(conn)) {
      // Already receiving the room: nothing to replay. `since` was honoured if it is where we are.
      const start = room.position
      reply(start, since === null ? undefined : start !== null && since.epoch === start.epoch && since.offset === start.offset)
      return Promise.resolve()
    }
    conn.rooms.add(name)
    const joiner = newJoiner(conn)
    room.joiners.push(joiner)
    const opened = room
    return room.ready.then(() => this.feed.admit(opened, joiner, since, (start, recovered) => {
      reply(start, recovered)
      this.presence?.joined(conn, name)
    }))
  }

  /** False when the connection was not in the room. */
  leave (conn: Connection, name: string): boolean {
    const room = this.rooms.get(name)
    if (room === undefined || !room.remove(conn)) return false
    conn.rooms.delete(name)
    this.presence?.left(conn, name)
    if (room.size === 0) {
      this.idle.set(room, performance.now())
      this.sweeper ??= this.sweepIn(ROOM_LINGER_MS)
    }
    return true
  }

  /**
   * A non-stored room frame (transient, or history off), to the members and to the joiners that
   * were answered `joined` already: one that waits for the feed to reach its start (a resume while
   * Redis is out of reach may wait the whole outage) is in the room for everything not stored.
   */
  deliverRoom (room: string, frame: Buffer): void {
    const target = this.rooms.get(room)
    if (target === undefined || target.size === 0) return
    const out = new OutgoingFrame(frame) // framed (and compressed) once, whatever the number of members
    this.observer?.delivered(target.sendLive(out), frame)
  }

  /** A `member_joined` / `member_left` of the room, to its members (and answered joiners) but the connection it is about. */
  deliverMember (room: string, frame: Buffer, except: string): void {
    const target = this.rooms.get(room)
    if (target === undefined) return
    target.sendLive(new OutgoingFrame(frame), except) // framed once, and only if someone gets it
  }

  /** A stored room message, numbered by the history: delivered in offset order, gaps filled first. */
  deliverStored (room: string, offset: number, epoch: string, frame: Buffer): void {
    const target = this.rooms.get(room)
    if (target !== undefined) this.feed.receive(target, offset, epoch, frame)
  }

  deliverAll (frame: Buffer): void {
    if (this.connections.size === 0) return
    const out = new OutgoingFrame(frame)
    for (const conn of this.connections) conn.sendFramed(out)
    this.observer?.delivered(this.connections.size, frame)
  }

  /** The link that brings stored messages dropped: each feed waits until it can catch up. */
  linkLost (): void {
    for (const room of this.rooms.values()) room.syncing = true
  }

  /** The link is back: each feed that waits reads what it missed from the history; a room nobody is in closes instead. */
  linkRestored (): void {
    for (const room of [...this.idle.keys()]) this.closeRoom(room)
    for (const room of this.rooms.values()) {
      if (room.syncing) this.feed.resync(room)
    }
  }

  /** Rooms with a member (or a joiner) on this instance. */
  get roomCount (): number {
    return this.rooms.size - this.idle.size
  }

  /** Local members of each room; used by the broker to resubscribe after a reconnect. */
  roomNames (): IterableIterator<string> {
    return this.rooms.keys()
  }

  /** Stops closing idle rooms (at shutdown: the broker's close drops every subscription). */
  protected stopSweeping (): void {
    if (this.sweeper !== null) clearTimeout(this.sweeper)
    this.sweeper = null
  }

  private sweepIn (ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(this.sweep, ms)
    timer.unref()
    return timer
  }

  /** Closes the rooms that stayed empty for ROOM_LINGER_MS; waits for the next one due. */
  private readonly sweep = (): void => {
    this.sweeper = null
    const now = performance.now()
    for (const [room, since] of this.idle) {
      const due = since + ROOM_LINGER_MS
      if (due > now) {
        this.sweeper = this.sweepIn(due - now)
        return
      }
      this.closeRoom(room)
    }
  }

  private closeRoom (room: Room): void {
    this.idle.delete(room)
    this.rooms.delete(room.name)
    this.broker.unsubscribeRoom(room.name).catch(err => this.log.warn({ err, room: room.name }, 'broker unsubscribe failed'))
  }

  private openRoom (name: string): Room {
    const room = new Room(name)
    this.rooms.set(name, room)
    // Brokers resolve even when Redis is down (they resubscribe on reconnect); the catch only
    // keeps a broker bug from leaving the joiner waiting forever.
    const subscribed = this.broker.subscribeRoom(name).catch(err => this.log.warn({ err, room: name }, 'broker subscribe failed'))
    // With history, the feed learns its position once it hears every message published after it.
    room.ready = this.history === null ? subscribed : subscribed.then(() => this.feed.resync(room))
    return room
  }

  private fanOut (room: Room, frame: Buffer): void {
    if (room.members.size === 0) return
    const out = new OutgoingFrame(frame)
    for (const conn of room.members) conn.sendFramed(out)
    this.observer?.delivered(room.members.size, frame)
  }
}
