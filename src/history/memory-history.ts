/**
 * History in this process's memory, for a single instance without Redis: the same contract as the
 * Redis store. A restart loses it, and every room starts a new epoch (a new random name).
 *
 * Expiry costs no timer per room: rooms sit in a Map in the order of their last message, so a
 * sweep drops expired ones from the front and stops at the first live one; keys likewise per room.
 */
import { randomBytes } from 'node:crypto'
import {
  storedFrame, type AppendResult, type HistoryStore, type PageResult, type Position, type SinceResult,
  type StoredDelivery, type StoredMessageDraft
} from './history-store.js'

interface SeenKey { messageId: string, offset: number, expiresAt: number }

class RoomLog {
  top = 0
  /** A ring: the frame of offset o sits at (o - 1) % size once the ring is full. */
  readonly frames: Buffer[] = []
  readonly keys = new Map<string, SeenKey>()
  expiresAt = 0
  constructor (readonly epoch: string) {}
}

export interface MemoryHistoryOptions {
  size: number
  ttlSec: number
  deliver: StoredDelivery
  /** Clock, for tests. */
  now?: () => number
}

export class MemoryHistory implements HistoryStore {
  private readonly logs = new Map<string, RoomLog>()
  private readonly size: number
  private readonly ttlMs: number
  private readonly deliver: StoredDelivery
  private readonly now: () => number
  private readonly sweeper: ReturnType<typeof setInterval>
  // Epochs: a random tag of this process plus a counter, unique across restarts and rooms.
  private readonly epochTag = randomBytes(6).toString('base64url')
  private epochSeq = 0

  constructor (opts: MemoryHistoryOptions) {
    this.size = opts.size
    this.ttlMs = opts.ttlSec * 1000
    this.deliver = opts.deliver
    this.now = opts.now ?? Date.now
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.ttlMs, 60_000))
    this.sweeper.unref()
  }

  available (): boolean {
    return true
  }

  async append (draft: StoredMessageDraft): Promise<AppendResult> {
    const now = this.now()
    const log = this.logOf(draft.room, now)
    if (draft.key !== undefined) {
      dropExpiredKeys(log.keys, now)
      const seen = log.keys.get(draft.key)
      if (seen !== undefined) return { stored: false, messageId: seen.messageId, offset: seen.offset, epoch: log.epoch }
    }
    const offset = ++log.top
    const frame = Buffer.from(storedFrame(draft.frameHead, offset, log.epoch))
    if (log.frames.length < this.size) log.frames.push(frame)
    else log.frames[(offset - 1) % this.size] = frame
    log.expiresAt = now + this.ttlMs
    // Re-inserted: the Map stays in the order of last messages, which the sweep relies on.
    this.logs.delete(draft.room)
    this.logs.set(draft.room, log)
    if (draft.key !== undefined) log.keys.set(draft.key, { messageId: draft.messageId, offset, expiresAt: log.expiresAt })
    this.deliver(draft.room, offset, log.epoch, frame)
    return { stored: true, messageId: draft.messageId, offset, epoch: log.epoch }
  }

  /** One process holds this history: it never rolls back. */
  async fence (): Promise<void> {}

  async since (room: string, from: Position | null): Promise<SinceResult> {
    const log = this.logOf(room, this.now())
    const position = { epoch: log.epoch, offset: log.top }
    const lost = { position, recovered: false, messages: [] }
    if (from === null) return lost
    if (from.epoch !== log.epoch || from.offset > log.top) return lost
    if (from.offset < log.top - log.frames.length) return lost // trimmed
    return { position, recovered: true, messages: this.range(log, from.offset + 1, log.top) }
  }

  /** Everything in one page: the frames are in this process's memory already. */
  async sincePage (room: string, from: Position, last: number | null): Promise<SinceResult> {
    const result = await this.since(room, from)
    if (last === null || !result.recovered) return result
    return { ...result, messages: result.messages.slice(0, Math.max(0, last - from.offset)) }
  }

  async page (room: string, limit: number, before: number | null): Promise<PageResult> {
    const log = this.logOf(room, this.now())
    const last = Math.min(log.top, before === null ? log.top : before - 1)
    const first = Math.max(last - limit + 1, log.top - log.frames.length + 1)
    return { position: { epoch: log.epoch, offset: log.top }, messages: this.range(log, first, last) }
  }

  close (): void {
    clearInterval(this.sweeper)
  }

  /** Frames of offsets first..last, all kept. */
  private range (log: RoomLog, first: number, last: number): Buffer[] {
    const frames: Buffer[] = []
    for (let offset = first; offset <= last; offset++) frames.push(log.frames[(offset - 1) % this.size])
    return frames
  }

  /** The room's live log; a new epoch when it has none or it expired. */
  private logOf (room: string, now: number): RoomLog {
    let log = this.logs.get(room)
    if (log === undefined || log.expiresAt <= now) {
      log = new RoomLog(`${this.epochTag}${(++this.epochSeq).toString(36)}`)
      log.expiresAt = now + this.ttlMs
      this.logs.delete(room)
      this.logs.set(room, log)
    }
    return log
  }

  private sweep (): void {
    const now = this.now()
    for (const [room, log] of this.logs) {
      if (log.expiresAt > now) break
      this.logs.delete(room)
    }
  }
}

function dropExpiredKeys (keys: Map<string, SeenKey>, now: number): void {
  for (const [key, seen] of keys) {
    if (seen.expiresAt > now) break
    keys.delete(key)
  }
}
