/**
 * The room registry of one instance: rooms -> local connections, and publishing to them. Frames
 * arrive here already serialised; delivering one costs a write per local member and nothing else.
 * Another instance's traffic comes in through the broker (`deliverRoom` / `deliverAll`).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { LocalBroker, type Broker, type BrokerStatus } from './broker.js'
import type { Connection } from './connection.js'
import { textFrame } from './frame-writer.js'
import type { HubObserver } from './observer.js'

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
  | { ok: false, code: 'unavailable', message: string }

export class Hub {
  readonly instanceId = randomUUID()
  /** Set when the app starts closing: no new sockets, /ready answers 503. */
  closing = false
  readonly connections = new Set<Connection>()
  /** Set by the metrics plugin; told once per message, never per recipient. */
  observer: HubObserver | null = null
  /** Set by the server API: a control payload (a disconnect) published by any instance, this one included. */
  onControl: ((payload: Buffer) => void) | null = null
  private readonly rooms = new Map<string, Set<Connection>>()
  /** The broker subscription of each room that has local members: in flight or done. */
  private readonly subscriptions = new Map<string, Promise<void>>()
  private broker: Broker = new LocalBroker()
  private readonly startedAt = performance.now()
  // messageId = short random instance tag + counter: unique across instances, cheap to make.
  private readonly messageTag = randomBytes(6).toString('base64url')
  private messageSeq = 0

  constructor (private readonly onBrokerError: (err: unknown, room: string) => void = () => {}) {}

  /** Swaps the single-instance broker for a cross-instance one (before any socket connects). */
  useBroker (broker: Broker): void {
    this.broker = broker
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
   * Adds the connection to the room; the promise resolves once the room's messages from every
   * instance reach it. Idempotent.
   */
  join (conn: Connection, room: string): Promise<void> {
    let members = this.rooms.get(room)
    if (members === undefined) {
      members = new Set()
      this.rooms.set(room, members)
      // Brokers resolve even when Redis is down (they resubscribe on reconnect); the catch only
      // keeps a broker bug from leaving the joiner waiting forever.
      this.subscriptions.set(room, this.broker.subscribeRoom(room).catch(err => this.onBrokerError(err, room)))
    }
    members.add(conn)
    conn.rooms.add(room)
    return this.subscriptions.get(room) as Promise<void>
  }

  /** False when the connection was not in the room. */
  leave (conn: Connection, room: string): boolean {
    const members = this.rooms.get(room)
    if (members === undefined || !members.delete(conn)) return false
    conn.rooms.delete(room)
    if (members.size === 0) {
      this.rooms.delete(room)
      this.subscriptions.delete(room)
      this.broker.unsubscribeRoom(room).catch(err => this.onBrokerError(err, room))
    }
    return true
  }

  nextMessageId (): string {
    return `${this.messageTag}-${(++this.messageSeq).toString(36)}`
  }

  /**
   * Publishes a room message built from `dataJson` (the client's `data`, serialised) and `fromJson`
   * (the sender, serialised once per sender). Used by sockets and the server API alike.
   */
  async sendToRoom (room: string, dataJson: string, fromJson: string, opts: PublishOptions = {}): Promise<PublishOutcome> {
    const messageId = this.nextMessageId()
    const transient = opts.transient === true ? ',"transient":true' : ''
    // Serialised once here; every recipient on every instance gets these same bytes. Only `data` is
    // the client's: the room passed the naming rule and the messageId is base64url.
    this.publishRoom(room, Buffer.from(`{"type":"message","room":"${room}","data":${dataJson},"from":${fromJson},"messageId":"${messageId}","ts":${Date.now()}${transient}}`))
    return { ok: true, messageId }
  }

  /** Publishes a global broadcast to every connection of every instance; returns its messageId. */
  sendToAll (dataJson: string, fromJson: string): string {
    const messageId = this.nextMessageId()
    this.publishAll(Buffer.from(`{"type":"broadcast","data":${dataJson},"from":${fromJson},"messageId":"${messageId}","ts":${Date.now()}}`))
    return messageId
  }

  /** Local members first, then every other instance. */
  publishRoom (room: string, frame: Buffer): void {
    this.deliverRoom(room, frame)
    this.broker.publishRoom(room, frame)
  }

  publishAll (frame: Buffer): void {
    this.deliverAll(frame)
    this.broker.publishAll(frame)
  }

  deliverRoom (room: string, frame: Buffer): void {
    const members = this.rooms.get(room)
    if (members === undefined) return
    const wire = textFrame(frame) // once per message, whatever the number of members
    for (const conn of members) conn.sendFramed(frame, wire)
    this.observer?.delivered(members.size, frame)
  }

  deliverAll (frame: Buffer): void {
    if (this.connections.size === 0) return
    const wire = textFrame(frame)
    for (const conn of this.connections) conn.sendFramed(frame, wire)
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

  /** Local members of each room; used by the broker to resubscribe after a reconnect. */
  roomNames (): IterableIterator<string> {
    return this.rooms.keys()
  }

  stats (): HubStats {
    // No prototype: a room may be called `__proto__`, and must be counted like any other.
    const rooms: Record<string, number> = Object.create(null)
    for (const [room, members] of this.rooms) rooms[room] = members.size
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
  }
}
