/**
 * The hub of one instance: its rooms and their local members (local-rooms.ts), and publishing to
 * them and to every other instance. Frames are serialised once, here or by the caller; every
 * recipient on every instance gets the same bytes.
 *
 * Two delivery paths:
 * - stored room messages (history on): numbered by the history store and delivered when they come
 *   back from it (`deliverStored`), own ones included, so that every member on every instance gets
 *   a room's messages in offset order; a room's feed fills any gap from the history (room-feed.ts);
 * - everything else (broadcasts, transient messages, history off): local members at once, then the
 *   other instances through the broker (`deliverRoom` / `deliverAll`), at most once.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { ErrorCode } from '../protocol.js'
import type { Broker, BrokerStatus } from './broker.js'
import type { HistoryStore } from './history-port.js'
import { LocalRooms } from './local-rooms.js'

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

/**
 * Told of each stored (non-transient) message after it was stored, and of each send found stored
 * under its key: the webhooks (src/webhooks/). Undefined: not wanted; else resolves true once queued.
 */
export interface StoredMessageSink {
  messageStored (room: string, messageId: string, offset: number | undefined, epoch: string | undefined, fromJson: string, dataJson: string, key: string | undefined): Promise<boolean> | undefined
}

const UNAVAILABLE: PublishOutcome = Object.freeze({
  ok: false,
  code: ErrorCode.UNAVAILABLE,
  message: 'Redis is unreachable: the message was not stored nor delivered; resend it later with the same key'
})
const NOT_QUEUED: PublishOutcome = Object.freeze({ ok: false, code: ErrorCode.UNAVAILABLE, message: 'The message was stored, but its webhook could not be queued; resend it with the same key' })

export class Hub extends LocalRooms {
  readonly instanceId = randomUUID()
  /** Set when the app starts closing: no new sockets, /ready answers 503. */
  closing = false
  /** Bytes written to this instance's sockets after compression, headers included (each message adds its own: outgoing-frame.ts). */
  readonly sent = { bytes: 0 }
  /** Set by the server API: a control payload (a disconnect) published by any instance, this one included. */
  onControl: ((payload: Buffer) => void) | null = null
  /** Set by the webhooks plugin (null: WEBHOOK_URL unset): told of each stored message, once. */
  webhooks: StoredMessageSink | null = null
  private readonly startedAt = performance.now()
  // messageId = short random instance tag + counter: unique across instances, cheap to make.
  private readonly messageTag = randomBytes(6).toString('base64url')
  private messageSeq = 0

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
      // History off: raised, not waited for (at most once, like the message; a resend is a new one).
      if (opts.transient !== true) this.webhooks?.messageStored(room, messageId, undefined, undefined, fromJson, dataJson, opts.key)
      return { ok: true, messageId }
    }
    if (!history.available()) return UNAVAILABLE
    try {
      // What this instance delivered of the room, or was acknowledged: a history below it rolled back.
      const local = this.rooms.get(room)
      const stored = await history.append({ room, messageId, frameHead: head, key: opts.key, seen: local?.seen ?? undefined })
      if (stored.stored) this.rooms.get(room)?.noteAcked({ epoch: stored.epoch, offset: stored.offset })
      // Acknowledged once its webhook is queued (none lost to a SIGKILL); found stored: raised again, same id.
      const queued = this.webhooks?.messageStored(room, stored.messageId, stored.offset, stored.epoch, fromJson, dataJson, opts.key)
      if (queued !== undefined && !(await queued)) return NOT_QUEUED
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

  /**
   * Hands a control payload to this instance, then to every other one; false when the others
   * could not be reached (Redis down).
   */
  publishControl (payload: Buffer): boolean {
    this.onControl?.(payload)
    return this.broker.publishControl(payload)
  }

  stats (): HubStats {
    // No prototype: a room may be called `__proto__`, and must be counted like any other.
    const rooms: Record<string, number> = Object.create(null)
    for (const [name, room] of this.rooms) {
      if (room.size > 0) rooms[name] = room.size // an idle room (ROOM_LINGER_MS) has nobody to count
    }
    return {
      instanceId: this.instanceId,
      connections: this.connections.size,
      rooms,
      redis: this.broker.status(),
      uptimeSeconds: (performance.now() - this.startedAt) / 1000
    }
  }

  async closeBroker (): Promise<void> {
    this.stopSweeping()
    await this.broker.close()
    this.history?.close()
  }
}
