/**
 * The room registry of one instance: rooms -> local connections, and publishing to them. Frames
 * arrive here already serialised; delivering one costs a write per local member and nothing else.
 *
 * Two delivery paths:
 * - stored room messages (history on): numbered by the history store and delivered when they come
 *   back from it (`deliverStored`), own ones included, so that every member on every instance gets
 *   a room's messages in offset order; a room's feed fills any gap from the history (room-feed.ts);
 * - everything else (broadcasts, transient messages, history off): local members at once, then the
 *   other instances through the broker (`deliverRoom` / `deliverAll`), at most once.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import type { HistoryStore, Position } from '../history/history-store.js'
import { ErrorCode } from '../protocol.js'
import { LocalBroker, type Broker, type BrokerStatus } from './broker.js'
import type { Connection } from './connection.js'
import { OutgoingFrame } from './outgoing-frame.js'
import { RoomFeed } from './room-feed.js'
import { newJoiner, Room } from './room.js'
import type { HubObserver } from './observer.js'
import type { Presence } from '../presence/presence.js'

export interface HubStats {
  instanceId: string
  connections: number
  rooms: Record<string, number>
  redis: BrokerStatus
  uptimeSeconds: number
}

export interface PublishOptions {
  /** Idempotency key: a resend with the same key is neither stored nor delivered again. */
  key?: string
  /** Not stored, no offset; delivered at most once. */
  transient?: boolean
}

export type PublishOutcome =
  | { ok: true, messageId: string, offset?: number, epoch?: string }
  | { ok: false, code: typeof ErrorCode.UNAVAILABLE, message: string }

/** What a join tells the client: where it starts (null while unknown: Redis down) and whether `since` was honoured. */
export type JoinReply = (start: Position | null, recovered: boolean | undefined) => void

/** Told of each stored (non-transient) message once, after it was stored: the webhooks (src/webhooks/). */
export interface StoredMessageSink {
  messageStored (room: string, messageId: string, offset: number | undefined, epoch: string | undefined, fromJson: string, dataJson: string, key: string | undefined): void
}

export interface HubLog {
  warn (obj: object, msg: string): void
}

const UNAVAILABLE: PublishOutcome = Object.freeze({
  ok: false,
  code: ErrorCode.UNAVAILABLE,
  message: 'Redis is unreachable: the message was not stored nor delivered; resend it later with the same key'
})

export class Hub {
  readonly instanceId = randomUUID()
  /** Set when the app starts closing: no new sockets, /ready answers 503. */
  closing = false
  readonly connections = new Set<Connection>()
  /** Bytes written to this instance's sockets after compression, headers included (each message adds its own: outgoing-frame.ts). */
  readonly sent = { bytes: 0 }
  /** Set by the metrics plugin; told once per message, never per recipient. */
  observer: HubObserver | null = null
  /** Set by the server API: a control payload (a disconnect) published by any instance, this one included. */
  onControl: ((payload: Buffer) => void) | null = null
  /** Set by the presence plugin (null: PRESENCE_ENABLED=false): told of each join, once `joined` is sent, and each leave. */
  presence: Presence | null = null
  /** Set by the webhooks plugin (null: WEBHOOK_URL unset): told of each stored message, once. */
  webhooks: StoredMessageSink | null = null
  private readonly rooms = new Map<string, Room>()
  private broker: Broker = new LocalBroker()
  private readonly feed: RoomFeed
  private history: HistoryStore | null = null
  private readonly startedAt = performance.now()
  // messageId = short random instance tag + counter: unique across instances, cheap to make.
  private readonly messageTag = randomBytes(6).toString('base64url')
  private messageSeq = 0

  constructor (private readonly log: HubLog = { warn () {} }) {
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

  /** Swaps the single-instance broker for a cross-instance one (before any socket connects). */
  useBroker (broker: Broker): void {
    this.broker = broker
  }

  /** Turns history on (before any socket connects). */
  useHistory (history: HistoryStore): void {
    this.history = history
  }

  get historyEnabled (): boolean {
    return this.history !== null
  }

  get historyStore (): HistoryStore | null {
    return this.history
  }

  get brokerStatus (): BrokerStatus {
    return this.broker.status()
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
      this.rooms.delete(name)
      this.broker.unsubscribeRoom(name).catch(err => this.log.warn({ err, room: name }, 'broker unsubscribe failed'))
    }
    return true
  }

  nextMessageId (): string {
    return `${this.messageTag}-${(++this.messageSeq).toString(36)}`
  }

  /**
   * Publishes a room message built from `dataJson` (the client's `data`, serialised) and `fromJson`
   * (the sender, serialised once per sender). Used by sockets and the server API alike. With history
   * on it resolves once the message is stored (or found stored under its key).
   */
  async sendToRoom (room: string, dataJson: string, fromJson: string, opts: PublishOptions = {}): Promise<PublishOutcome> {
    const messageId = this.nextMessageId()
    // Serialised once here; every recipient on every instance gets these same bytes. Only `data` is
    // the client's: the room passed the naming rule and the messageId is base64url.
    const head = `{"type":"message","room":"${room}","data":${dataJson},"from":${fromJson},"messageId":"${messageId}","ts":${Date.now()}`
    const history = this.history
    if (history === null || opts.transient === true) {
      this.publishRoom(room, Buffer.from(opts.transient === true ? `${head},"transient":true}` : `${head}}`))
      if (opts.transient !== true) this.webhooks?.messageStored(room, messageId, undefined, undefined, fromJson, dataJson, opts.key)
      return { ok: true, messageId }
    }
    if (!history.available()) return UNAVAILABLE
    try {
      // What this instance delivered of the room, or was acknowledged: a history below it rolled back.
      const local = this.rooms.get(room)
      const stored = await history.append({ room, messageId, frameHead: head, key: opts.key, seen: local?.seen ?? undefined })
      if (stored.stored) {
        this.rooms.get(room)?.noteAcked({ epoch: stored.epoch, offset: stored.offset })
        this.webhooks?.messageStored(room, stored.messageId, stored.offset, stored.epoch, fromJson, dataJson, opts.key)
      }
      return { ok: true, messageId: stored.messageId, offset: stored.offset, epoch: stored.epoch }
    } catch (err) {
      // Lost with the connection, or refused: the client resends with the same key.
      this.log.warn({ err, room }, 'storing a message failed')
      return UNAVAILABLE
    }
  }

  /** Publishes a global broadcast to every connection of every instance; returns its messageId. */
  sendToAll (dataJson: string, fromJson: string): string {
    const messageId = this.nextMessageId()
    this.publishAll(Buffer.from(`{"type":"broadcast","data":${dataJson},"from":${fromJson},"messageId":"${messageId}","ts":${Date.now()}}`))
    return messageId
  }

  /** At most once: local members first, then every other instance. */
  publishRoom (room: string, frame: Buffer): void {
    this.deliverRoom(room, frame)
    this.broker.publishRoom(room, frame)
  }

  publishAll (frame: Buffer): void {
    this.deliverAll(frame)
    this.broker.publishAll(frame)
  }

  /** A non-stored room frame (transient, or history off). */
  deliverRoom (room: string, frame: Buffer): void {
    const members = this.rooms.get(room)?.members
    if (members === undefined || members.size === 0) return
    const out = new OutgoingFrame(frame) // framed (and compressed) once, whatever the number of members
    for (const conn of members) conn.sendFramed(out)
    this.observer?.delivered(members.size, frame)
  }

  /** A `member_joined` / `member_left` of the room, to its members but the connection it is about. */
  deliverMember (room: string, frame: Buffer, except: string): void {
    const members = this.rooms.get(room)?.members
    if (members === undefined) return
    const out = new OutgoingFrame(frame) // framed once, and only if someone gets it
    for (const conn of members) {
      if (conn.id !== except) conn.sendFramed(out)
    }
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

  /**
   * Hands a control payload to this instance, then to every other one; false when the others
   * could not be reached (Redis down).
   */
  publishControl (payload: Buffer): boolean {
    this.onControl?.(payload)
    return this.broker.publishControl(payload)
  }

  /** The link that brings stored messages dropped: each feed waits until it can catch up. */
  linkLost (): void {
    for (const room of this.rooms.values()) room.syncing = true
  }

  /** The link is back: each feed that waits reads what it missed from the history. */
  linkRestored (): void {
    for (const room of this.rooms.values()) {
      if (room.syncing) this.feed.resync(room)
    }
  }

  /** Rooms with a member (or a joiner) on this instance. */
  get roomCount (): number {
    return this.rooms.size
  }

  /** Local members of each room; used by the broker to resubscribe after a reconnect. */
  roomNames (): IterableIterator<string> {
    return this.rooms.keys()
  }

  stats (): HubStats {
    // No prototype: a room may be called `__proto__`, and must be counted like any other.
    const rooms: Record<string, number> = Object.create(null)
    for (const [name, room] of this.rooms) rooms[name] = room.size
    return {
      instanceId: this.instanceId,
      connections: this.connections.size,
      rooms,
      redis: this.broker.status(),
      uptimeSeconds: (performance.now() - this.startedAt) / 1000
    }
  }

  async closeBroker (): Promise<void> {
    await this.broker.close()
    this.history?.close()
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
