/**
 * Read state behind small interfaces, each with a memory (one instance, no Redis) and a Redis
 * implementation: the users' read cursors, where rooms stand, and who is online.
 */
import type { Connection } from '../hub/connection.js'
import type { Position } from '../history/history-store.js'

export interface CursorMove {
  room: string
  /** The position read up to: the room's epoch and an offset in it. */
  cursor: Position
}

export interface Advanced {
  /** False when the stored cursor was at or past the move (same epoch): nothing changed. */
  moved: boolean
  /** The cursor after the move. */
  cursor: Position
}

export interface CursorStore {
  /** Moves the user's cursors forward, atomically per cursor; never back within an epoch. */
  advance (user: string, moves: CursorMove[]): Promise<Advanced[]>
  /** Every cursor of the user, by room. */
  all (user: string): Promise<Map<string, Position>>
  close (): void
}

export interface RoomTops {
  /** Each room's epoch and latest offset, in the order asked; a room with no history gets its epoch now. */
  tops (rooms: string[]): Promise<Position[]>
}

export interface UserStatusNow {
  /** Open sockets of the user, on every instance. */
  connections: number
  /** When its last socket closed (ms); null: not known. */
  lastSeen: number | null
}

/**
 * Told of a store's socket changes, after the store recorded them (with Redis: after the write
 * succeeded), so that what it reads back (`status`) already holds them. The webhooks' user.online
 * and user.offline (src/webhooks/user-events.ts) are raised from here.
 */
export interface UserStatusWatcher {
  /** A socket of `user` was recorded (with Redis: a lease of it was new, on a connect or a renewal that found it missing). */
  socketOpened (user: string): void
  /** A socket of `user` closed; `live`: the user's sockets still open (with Redis: on every instance, live leases). */
  socketClosed (user: string, live: number): void
}

export interface UserStatusStore {
  watcher: UserStatusWatcher | null
  /** A socket of a user (auth on) opened on this instance. */
  connected (conn: Connection): void
  /** It closed; safe to call more than once. */
  disconnected (conn: Connection): void
  /** Null while it cannot be read (Redis unreachable). */
  status (user: string): Promise<UserStatusNow | null>
  close (): void
}
