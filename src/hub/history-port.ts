/**
 * The room history as the hub uses it: it numbers and keeps each room's messages, and hands each
 * stored one back to the hub for delivery, in offset order. Declared here, in the hub that calls
 * it, and implemented by the stores of src/history/ (in Redis, shared by every instance, or in
 * memory, one instance), so that the hub needs nothing from the feature layer above it.
 */

/** Where a room's history stands: its epoch and the offset of its latest message (0: none yet). */
export interface Position {
  epoch: string
  offset: number
}

export interface AppendResult {
  /** False when the idempotency key was seen: nothing was stored or delivered again. */
  stored: boolean
  messageId: string
  offset: number
  epoch: string
}

export interface SinceResult {
  /** The room's position when the history was read. */
  position: Position
  /** True when every message after the asked position is in `messages`. */
  recovered: boolean
  /** The stored frames after the asked position, oldest first; empty unless recovered. */
  messages: Buffer[]
}

export interface PageResult {
  position: Position
  /** Oldest first. */
  messages: Buffer[]
}

/** A room message ready to store: its frame without the closing brace, to which the store adds offset and epoch. */
export interface StoredMessageDraft {
  room: string
  messageId: string
  frameHead: string
  /** The sender's idempotency key; none: the store makes one (a retry inside the service is stored once). */
  key?: string
  /**
   * The highest position of the room this instance has seen, if it knows one: a store whose room is
   * in that epoch but below it lost messages (rolled back) and moves the room to a new epoch first.
   */
  seen?: Position
}

export interface HistoryStore {
  /** False while the store cannot take a message (Redis unreachable): the caller answers `unavailable`. */
  available (): boolean
  append (draft: StoredMessageDraft): Promise<AppendResult>
  /** The room's position, and with `from` the messages after it. Rejects when the store cannot be read. */
  since (room: string, from: Position | null): Promise<SinceResult>
  /**
   * The room's position and the first page of the messages after `from`, up to offset `last`
   * (null: the top); `recovered` as for `since`, for that page. A paced replay reads on from the
   * page's end, one page at a time (paced-replay.ts).
   */
  sincePage (room: string, from: Position, last: number | null): Promise<SinceResult>
  /**
   * `seen` was delivered, but the store's room is in that epoch below it: it lost messages (a
   * failover, an older snapshot). Moves the room to a new epoch, unless that happened already.
   */
  fence (room: string, seen: Position): Promise<void>
  /** The last `limit` messages with offsets below `before` (null: all). */
  page (room: string, limit: number, before: number | null): Promise<PageResult>
  close (): void
}

/** Where stored messages go once numbered: the hub's ordered delivery. */
export type StoredDelivery = (room: string, offset: number, epoch: string, frame: Buffer) => void
