/**
 * One room on one instance: its members, and with history on, the room's feed of stored messages
 * as this instance delivers it. The feed's position (epoch, top) is the last message its members
 * got; messages are delivered strictly in offset order, and anything out of order waits in
 * `pending` while the missing ones are read from the history.
 *
 * A connection that joins is a `Joiner` first: it is told where it starts (its `joined`, after a
 * replay when it asked for one) and becomes a member once the feed has delivered everything up to
 * that point, so it gets each message after it exactly once, whatever the timing of the two.
 */
import type { Position } from './history-port.js'
import type { Connection } from './connection.js'
import type { OutgoingFrame } from './outgoing-frame.js'

/** Epochs a room remembers having left: epochs change seldom, and a joiner's read is short. */
const LEFT_EPOCHS = 8

export interface StoredMessage {
  offset: number
  epoch: string
  frame: Buffer
}

export interface Joiner {
  conn: Connection
  /** Where it starts, once its `joined` was sent; null before. */
  start: Position | null
  /** Messages the feed delivered since it registered, while `start` was still unknown. */
  held: StoredMessage[]
  /** Their bytes: bounded while a replay runs (paced-replay.ts). */
  heldBytes: number
  /** A paced replay is under way: held frames past JOINER_HELD_BYTES are dropped and read from the history. */
  replaying: boolean
  /** Held frames were dropped since the replay last looked. */
  overflowed: boolean
  /**
   * Set when it starts at its own `since`, further than the feed, with no history read to check
   * it (Redis out of reach, or the read failed): the room's catch-up reads sent before then. One
   * sent after tells whether the room got that far (Joiners.promoteReached).
   */
  unchecked: number | null
}

export function newJoiner (conn: Connection): Joiner {
  return { conn, start: null, held: [], heldBytes: 0, replaying: false, overflowed: false, unchecked: null }
}

export class Room {
  readonly members = new Set<Connection>()
  joiners: Joiner[] = []
  /** Resolves once the room receives every instance's messages and its feed tried to find its position. */
  ready: Promise<void> = Promise.resolve()
  epoch: string | null = null
  top = 0
  /** True while the position is unknown or a gap is being filled: stored messages wait in `pending`. */
  syncing = true
  /** A history read for the feed is under way. */
  resyncing = false
  /** Asked to resync while a read was under way. */
  resyncAgain = false
  /** Catch-up reads sent, ever: numbers them. */
  reads = 0
  /** Catch-up reads that failed in a row. */
  failedReads = 0
  /** Stored messages heard while a catch-up read is under way, and their bytes (bounded: room-feed.ts). */
  pending: StoredMessage[] = []
  pendingBytes = 0
  /**
   * Members that joined before the feed knew its position (Redis out of reach); see Joiners.sight
   * (joiners.ts). Null while there is none, as in almost every room: a Set costs a room ~100 bytes.
   */
  blind: Set<Connection> | null = null
  /**
   * The last few epochs the feed left, newest last: a joiner that starts in one of them is behind
   * for good, and a history found back in one of them was rolled back (catch-up.ts).
   */
  left: string[] = []
  /**
   * The newest position an append of this instance was acknowledged at. Redis may lose it with a
   * master before its publish reached anyone (a SIGKILL), and then only the ack tells that the
   * offset was handed out once already.
   */
  private acked: Position | null = null

  constructor (readonly name: string) {}

  get size (): number {
    return this.members.size + this.joiners.length
  }

  get position (): Position | null {
    return this.epoch === null ? null : { epoch: this.epoch, offset: this.top }
  }

  /**
   * The highest position this instance knows the room reached: what its feed delivered, or what
   * its own appends were acknowledged at, whichever is further in the feed's epoch. A history
   * below it in that epoch rolled back (room-feed.ts, append.lua).
   */
  get seen (): Position | null {
    const delivered = this.position
    const acked = this.acked
    if (delivered === null) return acked
    if (acked === null || acked.epoch !== delivered.epoch || acked.offset <= delivered.offset) return delivered
    return acked
  }

  noteAcked (at: Position): void {
    if (this.acked === null || this.acked.epoch !== at.epoch || at.offset > this.acked.offset) this.acked = at
  }

  has (conn: Connection): boolean {
    return this.members.has(conn) || this.joiners.some(joiner => joiner.conn === conn)
  }

  /** False when the connection was neither a member nor a joiner. */
  remove (conn: Connection): boolean {
    this.blind?.delete(conn)
    if (this.members.delete(conn)) return true
    const before = this.joiners.length
    this.joiners = this.joiners.filter(joiner => joiner.conn !== conn)
    return this.joiners.length !== before
  }

  /**
   * Sends a frame that is not numbered (a transient message, a member event) to the members and to
   * the joiners already answered, who hear the room while the feed catches up to their start; not
   * to `except` (the connection a member event is about). How many it went to.
   */
  sendLive (out: OutgoingFrame, except?: string): number {
    let sent = 0
    for (const conn of this.members) {
      if (conn.id !== except) {
        conn.sendFramed(out)
        sent++
      }
    }
    for (const joiner of this.joiners) {
      if (joiner.start !== null && joiner.conn.id !== except) {
        joiner.conn.sendFramed(out)
        sent++
      }
    }
    return sent
  }

  /** The feed leaves `epoch` for good (its history was lost). */
  leave (epoch: string): void {
    this.left.push(epoch)
    if (this.left.length > LEFT_EPOCHS) this.left.shift()
  }

  /** True once the feed has delivered everything up to the joiner's start. */
  reached (start: Position): boolean {
    return this.epoch === start.epoch && this.top >= start.offset
  }
}
