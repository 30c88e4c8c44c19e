/**
 * Read state: each user's read cursor per room, unread counts, read receipts, and who is online.
 * Unread = the room's top - the user's cursor, exact because offsets have no gaps (a cursor of
 * another epoch counts as 0 read: that history is gone).
 *
 * A user's own stored message moves the user's cursor too. That write is kept off the send's
 * path: `ownMessage` only notes the offset, and the notes of one event-loop turn go out together
 * after it (one script call per user), once the message was acknowledged.
 */
import type { Position } from '../history/history-store.js'
import { ErrorCode } from '../protocol.js'
import type { UnreadRoom } from '../schemas/read-state.js'
import type { CursorStore, RoomTops, UserStatusStore } from './stores.js'

/**
 * Tells a room's members, on every instance, that `user` moved its cursor there. A receipt is
 * transient (at most once); those of one user in one room reach every member in cursor order.
 */
export interface ReceiptSink {
  send (room: string, user: string, cursor: Position): void
}

/** The `read_receipt` frame. Room names need no escaping (ROOM_PATTERN). */
export function receiptFrame (room: string, user: string, cursor: Position): Buffer {
  return Buffer.from(`{"type":"read_receipt","room":"${room}","user":${JSON.stringify(user)},"offset":${cursor.offset},"epoch":${JSON.stringify(cursor.epoch)}}`)
}

/** One process, no Redis: the hub's fan-out is in order as it is. */
export function hubReceipts (hub: { publishRoom (room: string, frame: Buffer): void }): ReceiptSink {
  return { send: (room, user, cursor) => hub.publishRoom(room, receiptFrame(room, user, cursor)) }
}

export interface ReadStateLog {
  warn (obj: object, msg: string): void
  debug (obj: object, msg: string): void
}

export type Refusal = { ok: false, code: ErrorCode, message: string }
export type ReadOutcome = { ok: true, cursor: Position } | Refusal
export type UnreadOutcome = { ok: true, rooms: UnreadRoom[] } | Refusal

export const UNAVAILABLE: Refusal = Object.freeze({ ok: false, code: ErrorCode.UNAVAILABLE, message: 'Redis is unreachable: the read state cannot be read or written now' })

export interface ReadStateOptions {
  cursors: CursorStore
  tops: RoomTops
  status: UserStatusStore
  receipts: ReceiptSink
  log: ReadStateLog
}

export class ReadState {
  readonly status: UserStatusStore
  /** Own messages noted this turn, by user, then room: the highest offset of each. */
  private pending = new Map<string, Map<string, Position>>()
  private flushing = false

  constructor (private readonly opts: ReadStateOptions) {
    this.status = opts.status
  }

  /** Moves the user's cursor in `room` to `offset` of the room's current epoch, and tells the room. */
  async read (user: string, room: string, offset: number): Promise<ReadOutcome> {
    const { tops, cursors, receipts, log } = this.opts
    let advanced
    try {
      const [top] = await tops.tops([room])
      if (offset > top.offset) return { ok: false, code: ErrorCode.BAD_FRAME, message: `offset ${offset} is above the room's latest, ${top.offset}` }
      ;[advanced] = await cursors.advance(user, [{ room, cursor: { epoch: top.epoch, offset } }])
    } catch (err) {
      log.warn({ err, room }, 'a read cursor could not be moved')
      return UNAVAILABLE
    }
    const { cursor } = advanced
    if (advanced.moved) receipts.send(room, user, cursor)
    return { ok: true, cursor }
  }

  /** The user's unread counts: in `rooms`, or in every room it has a cursor in. */
  async unread (user: string, rooms: string[] | null, mayRead: (room: string) => boolean = () => true): Promise<UnreadOutcome> {
    const { tops, cursors, log } = this.opts
    try {
      const stored = await cursors.all(user)
      const names = (rooms ?? [...stored.keys()]).filter(mayRead)
      const positions = names.length === 0 ? [] : await tops.tops(names)
      return {
        ok: true,
        rooms: names.map((room, i) => {
          const { epoch, offset } = positions[i]
          const cursor = stored.get(room)
          const readOffset = cursor !== undefined && cursor.epoch === epoch ? Math.min(cursor.offset, offset) : 0
          return { room, epoch, offset, readOffset, unread: offset - readOffset }
        })
      }
    } catch (err) {
      log.warn({ err }, 'unread counts could not be read')
      return UNAVAILABLE
    }
  }

  /** A message the user sent was stored at `position`: its cursor moves there, after this turn. */
  ownMessage (user: string, room: string, position: Position): void {
    let rooms = this.pending.get(user)
    if (rooms === undefined) this.pending.set(user, rooms = new Map())
    const noted = rooms.get(room)
    if (noted === undefined || noted.epoch !== position.epoch || noted.offset < position.offset) rooms.set(room, position)
    if (!this.flushing) {
      this.flushing = true
      setImmediate(this.flush)
    }
  }

  close (): void {
    this.opts.cursors.close()
    this.opts.status.close()
  }

  /** One script call per user for everything noted this turn; a lost write is not retried (the next message moves it). */
  private readonly flush = (): void => {
    const pending = this.pending
    this.pending = new Map()
    this.flushing = false
    for (const [user, rooms] of pending) {
      const moves = [...rooms].map(([room, cursor]) => ({ room, cursor }))
      this.opts.cursors.advance(user, moves).catch(err => this.opts.log.debug({ err }, 'moving a sender\'s cursor failed'))
    }
  }
}
