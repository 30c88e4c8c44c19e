/**
 * Ordered delivery of a room's stored messages on this instance (see room.ts). The rule: the feed
 * delivers offset top+1 of its epoch next, or offset 1 of a new epoch, and nothing else. A message
 * that skips ahead, or the return of a lost link, makes the feed read what it missed from the
 * history (a catch-up) and deliver that first.
 *
 * What a catch-up may find:
 * - everything after the feed's position: delivered, and the feed goes on;
 * - another epoch (the history expired, Redis was flushed or came back empty): the old history is
 *   gone, and the feed moves to the new one from its offset 1. Members stay open; the new epoch on
 *   the next frame tells them that messages may have been lost between;
 * - the feed's epoch with a top below what the feed delivered: Redis rolled back (a failover to a
 *   replica that missed writes, a restart from an older snapshot). Those offsets would be handed
 *   out again, so the room is moved to a new epoch in Redis first (HistoryStore.fence), then as above;
 * - the feed's epoch, but the messages after its position trimmed: a gap no history can fill.
 *   Only then are the members closed with 4010, to resume with `since`; likewise when the history
 *   cannot be read back within the command deadline.
 *
 * A catch-up read covers every message heard before it was sent: those were published before it
 * ran. So while no read is under way a syncing room keeps nothing; during a read it keeps what is
 * heard (a read is bounded by REDIS_COMMAND_TIMEOUT_MS), up to MAX_PENDING_BYTES.
 *
 * The read itself is catch-up.ts; the joiners, answered and promoted as the feed goes, joiners.ts.
 */
import { CloseCode } from '../protocol.js'
import { readCatchUp, type CatchUp } from './catch-up.js'
import type { Position } from './history-port.js'
import { Joiners, type JoinersOptions, type JoinReply } from './joiners.js'
import type { Joiner, Room } from './room.js'

/** Retry delay of a history read that failed while the store looked available. */
const RESYNC_RETRY_MS = 1000
/**
 * Bytes of stored messages a room keeps while a catch-up read is under way. Past it the room's
 * members are closed with 4010: its memory must not grow with a burst while Redis is slow.
 */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024
/**
 * Failed catch-up reads in a row after which members that are behind resume (4010). A read that
 * ran into the command deadline counts as all of them; other failures (Redis still loading its
 * data after a restart, a connection that dropped under the read) are retried a little first.
 */
const MAX_FAILED_READS = 3
const TIMED_OUT = 'Command timed out'

export interface RoomFeedOptions extends JoinersOptions {
  fanOut: (room: Room, frame: Buffer) => void
  /** False once the room was closed (ROOM_LINGER_MS after its last member left): late answers are dropped. */
  isCurrent: (room: Room) => boolean
  /**
   * True while every instance's stored messages reach this one (the subscription is up). A feed
   * only leaves `syncing` then: in sync without the link it would miss what is stored meanwhile,
   * and in a quiet room nothing would ever reveal the gap.
   */
  linked: () => boolean
  /** The feed moved from one epoch to another: its history was lost, or rolled back. */
  epochChanged: () => void
}

export class RoomFeed {
  private readonly joiners: Joiners

  constructor (private readonly opts: RoomFeedOptions) {
    this.joiners = new Joiners(opts)
  }

  receive (room: Room, offset: number, epoch: string, frame: Buffer): void {
    if (room.syncing) {
      // No read under way: the one that ends the sync is sent after this was published, and covers it.
      if (!room.resyncing) return
      room.pendingBytes += frame.length
      if (room.pendingBytes > MAX_PENDING_BYTES) {
        room.pending = []
        room.pendingBytes = 0
        return this.lost(room, 'too much arrived while the room caught up')
      }
      room.pending.push({ offset, epoch, frame })
      return
    }
    if (epoch === room.epoch) {
      if (offset <= room.top) return // delivered already (a replay crossed the live stream)
      if (offset === room.top + 1) return this.deliver(room, offset, epoch, frame)
    } else if (offset === 1) {
      // A new history (the old one expired or was flushed) began, and over a link that never
      // dropped this instance got every message of the old one: delivered as the epoch's start.
      return this.deliver(room, offset, epoch, frame)
    }
    // A gap: the read covers this message too.
    this.resync(room)
  }

  /** Reads the history after the feed's position and delivers it; never rejects. */
  async resync (room: Room): Promise<void> {
    room.syncing = true
    if (room.resyncing) {
      // The read under way may predate what made this call (a link lost again): read once more.
      room.resyncAgain = true
      return
    }
    const history = this.opts.history()
    // Not now: the link's return calls again.
    if (history === null || !history.available() || !this.opts.linked()) return
    room.resyncing = true
    room.resyncAgain = false
    // Everything heard so far was published before this read runs: the read covers it.
    room.pending = []
    room.pendingBytes = 0
    const behind = room.position !== null
    const read = ++room.reads
    let caught: CatchUp
    try {
      caught = await readCatchUp(history, room.name, room.position, room.left)
    } catch (err) {
      room.resyncing = false
      if (!this.opts.isCurrent(room)) return
      this.opts.log.warn({ err, room: room.name }, 'reading the room history failed; retrying')
      room.failedReads++
      // Members that are behind cannot be served in order within the deadline: they resume.
      if (behind && ((err as Error).message === TIMED_OUT || room.failedReads >= MAX_FAILED_READS)) {
        room.failedReads = 0
        this.lost(room, 'the room history could not be read back in time')
      }
      setTimeout(() => { if (this.opts.isCurrent(room) && room.syncing) this.resync(room) }, RESYNC_RETRY_MS).unref()
      return
    }
    room.resyncing = false
    room.failedReads = 0
    if (!this.opts.isCurrent(room)) return
    // The link dropped during the read: what it read may already be behind; the return reads again.
    if (!this.opts.linked()) return
    // A joiner's read gave the feed its first position during this read from none (adopt): this
    // answer must not replace it, so the feed reads on from there.
    if (caught.from === null && room.epoch !== null) return this.resync(room)
    room.syncing = false
    const { from, result } = caught
    const at = result.position
    if (from === null) {
      this.joiners.sight(room, at)
    } else if (!result.recovered) {
      this.lost(room, 'room history lost while its link was down')
    } else {
      let offset = from.offset
      for (const frame of result.messages) this.deliver(room, ++offset, at.epoch, frame)
    }
    this.moveTo(room, at)
    if (room.resyncAgain) return this.resync(room)
    this.drain(room)
    this.joiners.promoteReached(room, read)
  }

  /** Answers a joiner once its room is ready (joiners.ts). */
  admit (room: Room, joiner: Joiner, since: Position | null, reply: JoinReply): Promise<void> {
    return this.joiners.admit(room, joiner, since, reply)
  }

  private moveTo (room: Room, at: Position): void {
    if (room.epoch !== null && room.epoch !== at.epoch) this.changeEpoch(room, at.epoch)
    room.epoch = at.epoch
    room.top = at.offset
  }

  private deliver (room: Room, offset: number, epoch: string, frame: Buffer): void {
    if (epoch !== room.epoch && room.epoch !== null) this.changeEpoch(room, epoch)
    room.epoch = epoch
    room.top = offset
    this.opts.fanOut(room, frame)
    if (room.joiners.length > 0) this.joiners.feed(room, offset, epoch, frame)
  }

  /** The feed leaves its epoch for `epoch`: the old one is remembered, and joiners waiting in it are let in. */
  private changeEpoch (room: Room, epoch: string): void {
    this.opts.epochChanged()
    if (room.epoch !== null) room.leave(room.epoch)
    this.joiners.promoteLeft(room, epoch)
  }

  /**
   * Stored messages heard during the read, in order. Those of another epoch may be older than the
   * read or newer: only another read can tell, so they start one (which covers them) rather than
   * being delivered as a new history's start.
   */
  private drain (room: Room): void {
    const pending = room.pending
    room.pending = []
    room.pendingBytes = 0
    for (const { offset, epoch, frame } of pending) {
      if (room.syncing) return // a new gap: the read it started covers the rest
      if (epoch !== room.epoch) {
        this.resync(room)
        return
      }
      this.receive(room, offset, epoch, frame)
    }
  }

  /** Messages were lost for this room's members (a gap of the current epoch): each resumes with `since`. */
  private lost (room: Room, why: string): void {
    const conns = [...room.members, ...room.joiners.map(joiner => joiner.conn)]
    if (conns.length > 0) this.opts.log.warn({ room: room.name, connections: conns.length }, `${why}; members must resume`)
    for (const conn of conns) conn.close(CloseCode.RESUME_NEEDED, 'resume needed')
  }
}
