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

export interface UserStatusStore {
  /** A socket of a user (auth on) opened on this instance. */
  connected (conn: Connection): void
  /** It closed; safe to call more than once. */
  disconnected (conn: Connection): void
  /** Null while it cannot be read (Redis unreachable). */
  status (user: string): Promise<UserStatusNow | null>
  close (): void
}
