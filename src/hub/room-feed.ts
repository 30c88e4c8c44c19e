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
 */
import type { HistoryStore, Position, SinceResult } from './history-port.js'
import { CloseCode } from '../protocol.js'
import type { HubLog, JoinReply } from './hub.js'
import type { Joiner, Room } from './room.js'
import { JOINER_HELD_BYTES, pacedReplay } from './paced-replay.js'

/** Retry delay of a history read that failed while the store looked available. */
const RESYNC_RETRY_MS = 1000
/**
 * Bytes of stored messages a room keeps while a catch-up read is under way. Past it the room's
 * members are closed with 4010: its memory must not grow with a burst while Redis is slow.
 */
export const MAX_PENDING_BYTES = 8 * 1024 * 1024
/** Reads of one catch-up (each finding the history moved on again) before it gives up and retries later. */
const MAX_READS = 4
/**
 * Failed catch-up reads in a row after which members that are behind resume (4010). A read that
 * ran into the command deadline counts as all of them; other failures (Redis still loading its
 * data after a restart, a connection that dropped under the read) are retried a little first.
 */
const MAX_FAILED_READS = 3
const TIMED_OUT = 'Command timed out'

export interface RoomFeedOptions {
  fanOut: (room: Room, frame: Buffer) => void
  history: () => HistoryStore | null
  /** False once the room was closed (its last member left): late answers are dropped. */
  isCurrent: (room: Room) => boolean
  /**
   * True while every instance's stored messages reach this one (the subscription is up). A feed
   * only leaves `syncing` then: in sync without the link it would miss what is stored meanwhile,
   * and in a quiet room nothing would ever reveal the gap.
   */
  linked: () => boolean
  /** Frames a joiner got in its catch-up (replay, held messages), for the deliveries count. */
  replayed: (frames: number) => void
  /** The feed moved from one epoch to another: its history was lost, or rolled back. */
  epochChanged: () => void
  log: HubLog
}

interface CatchUp {
  /** Where the messages start: the feed's position, or offset 0 of the history that replaced it. */
  from: Position | null
  result: SinceResult
}

export class RoomFeed {
  constructor (private readonly opts: RoomFeedOptions) {}

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
    let caught: CatchUp
    try {
      caught = await this.catchUp(history, room)
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
      this.sight(room, at)
    } else if (!result.recovered) {
      this.lost(room, 'room history lost while its link was down')
    } else {
      let offset = from.offset
      for (const frame of result.messages) this.deliver(room, ++offset, at.epoch, frame)
    }
    this.moveTo(room, at)
    if (room.resyncAgain) return this.resync(room)
    this.drain(room)
    this.promoteJoiners(room)
  }

  /**
   * Answers a joiner once its room is ready: where it starts (the feed's position, or after a
   * replay from `since` read from the history), then what the feed delivered meanwhile.
   */
  async admit (room: Room, joiner: Joiner, since: Position | null, reply: JoinReply): Promise<void> {
    if (!room.joiners.includes(joiner)) return // closed or left while the room got ready
    const history = this.opts.history()
    if (history === null) {
      this.promote(room, joiner)
      return reply(null, since === null ? undefined : false) // history off: nothing to replay
    }
    if (since === null) return this.start(room, joiner, room.position, undefined, reply)
    let start = room.position
    let recovered = false
    if (history.available()) {
      try {
        const outcome = await pacedReplay(history, room, joiner, since)
        if (outcome === null) return // closed, or gone: no `joined` after a partial replay
        start = outcome.start
        recovered = outcome.recovered
        this.opts.replayed(outcome.frames)
      } catch (err) {
        // Nothing was written: the client learns it must reload.
        this.opts.log.warn({ err, room: room.name }, 'reading the history for a join failed')
      }
    }
    if (!room.joiners.includes(joiner)) return
    this.start(room, joiner, start, recovered, reply)
  }

  /**
   * The feed's read, repeated while the history it finds has moved: to a new epoch (read from its
   * start), or back below what this feed delivered (fenced into a new epoch, then the same).
   */
  private async catchUp (history: HistoryStore, room: Room): Promise<CatchUp> {
    let from = room.position
    for (let reads = 1; ; reads++) {
      const result = await history.since(room.name, from)
      if (from === null || result.recovered) return { from, result }
      if (reads === MAX_READS) throw new Error('the room history kept moving during a catch-up')
      const at = result.position
      if (at.epoch !== from.epoch) {
        from = { epoch: at.epoch, offset: 0 }
      } else if (from.offset > at.offset) {
        await history.fence(room.name, from)
      } else {
        return { from, result } // trimmed: no history holds the gap
      }
    }
  }

  /** Sends `joined` (after the replay, if any, was written), then the frames held meanwhile. */
  private start (room: Room, joiner: Joiner, start: Position | null, recovered: boolean | undefined, reply: JoinReply): void {
    const conn = joiner.conn
    reply(start, recovered)
    const held = joiner.held
    joiner.held = []
    joiner.heldBytes = 0
    if (start === null) {
      // Redis is out of reach and the room's position unknown: it receives whatever comes from
      // now on, and once the position is known, whether anything came before is checked (sight).
      for (const message of held) conn.send(message.frame)
      this.opts.replayed(held.length)
      room.blind.add(conn)
      return this.promote(room, joiner)
    }
    if (room.epoch === null) this.adopt(room, start)
    joiner.start = start
    let sent = 0
    for (const message of held) {
      if (message.epoch === start.epoch && message.offset > start.offset) {
        conn.send(message.frame)
        sent++
      }
    }
    this.opts.replayed(sent)
    // The feed left the start's history after this read: like any member, the joiner hears of it
    // from the next message's epoch.
    if (room.reached(start) || room.left.includes(start.epoch)) this.promote(room, joiner)
  }

  /**
   * The feed learnt its position for the first time. Members that joined before (while Redis was
   * out of reach) got no position: if the history holds anything, some of it may have been stored
   * after their `joined`, and nothing tells which. They resume; with nothing stored they are fine.
   */
  private sight (room: Room, at: Position): void {
    const blind = [...room.blind]
    room.blind.clear()
    if (at.offset === 0) return
    // Closed, not removed here: the close removes it from the room (and from presence) as any close does.
    for (const conn of blind) {
      if (room.members.has(conn)) conn.close(CloseCode.RESUME_NEEDED, 'resume needed')
    }
  }

  /**
   * The feed has no position yet (it has not heard the room since the room opened here: the link
   * is down) and a joiner's own read just told where the room is. The feed takes that as its
   * position: it has delivered nothing, so nothing is skipped, and its catch-up reads on from
   * there, so what was stored after the joiner's `joined` reaches it as it reaches every member.
   * Learning a later position by itself instead, the feed would promote the joiner past the
   * messages between; learning another epoch, it would leave the joiner waiting for good.
   */
  private adopt (room: Room, at: Position): void {
    this.sight(room, at)
    room.epoch = at.epoch
    room.top = at.offset
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
    if (room.joiners.length > 0) this.feedJoiners(room, offset, epoch, frame)
  }

  /**
   * Joiners see the feed too, after the members: held while they wait for their start, or
   * promoted once the feed reaches it. The message that reaches it is usually the last of their
   * replay, so they join the members for the next one; but a start of a history that has no
   * message yet (offset 0 of a new epoch) is reached by a message after it, which they need too.
   */
  private feedJoiners (room: Room, offset: number, epoch: string, frame: Buffer): void {
    for (const joiner of [...room.joiners]) {
      const start = joiner.start
      if (start === null) {
        joiner.held.push({ offset, epoch, frame })
        joiner.heldBytes += frame.length
        if (joiner.replaying && joiner.heldBytes > JOINER_HELD_BYTES) {
          // A long replay: the history holds these too, and the replay reads them (paced-replay.ts).
          joiner.held = []
          joiner.heldBytes = 0
          joiner.overflowed = true
        }
      } else if (room.reached(start)) {
        if (epoch === start.epoch && offset > start.offset) {
          joiner.conn.send(frame)
          this.opts.replayed(1)
        }
        this.promote(room, joiner)
      }
    }
  }

  private promoteJoiners (room: Room): void {
    for (const joiner of [...room.joiners]) {
      if (joiner.start !== null && room.reached(joiner.start)) this.promote(room, joiner)
    }
  }

  /**
   * The feed leaves its epoch for `epoch`. Joiners that wait for a position of the history it
   * leaves will never reach it: they got all of it that they will get, and become members, who
   * see the new epoch on its first message.
   */
  private changeEpoch (room: Room, epoch: string): void {
    this.opts.epochChanged()
    if (room.epoch !== null) room.leave(room.epoch)
    for (const joiner of [...room.joiners]) {
      if (joiner.start !== null && joiner.start.epoch !== epoch) this.promote(room, joiner)
    }
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

  private promote (room: Room, joiner: Joiner): void {
    room.joiners = room.joiners.filter(j => j !== joiner)
    room.members.add(joiner.conn)
  }
}
