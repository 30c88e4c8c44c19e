/**
 * A room's joiners on their way to membership (see room.ts): each is answered once its room is
 * ready, with where it starts (the feed's position, or the end of a replay from `since` read from
 * the history), and becomes a member once the room's feed (room-feed.ts) has delivered everything
 * up to that start. What the feed delivers meanwhile is held for it, so it gets each message after
 * its start exactly once, whatever the timing of the two.
 */
import { CloseCode } from '../protocol.js'
import type { HistoryStore, Position } from './history-port.js'
import type { HubLog } from './hub-log.js'
import { JOINER_HELD_BYTES, pacedReplay } from './paced-replay.js'
import type { Joiner, Room } from './room.js'

/** What a join tells the client: where it starts (null while unknown: Redis down) and whether `since` was honoured. */
export type JoinReply = (start: Position | null, recovered: boolean | undefined) => void

export interface JoinersOptions {
  history: () => HistoryStore | null
  /** Frames a joiner got in its catch-up (replay, held messages), for the deliveries count. */
  replayed: (frames: number) => void
  log: HubLog
}

export class Joiners {
  constructor (private readonly opts: JoinersOptions) {}

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
    if (history.available()) {
      try {
        const outcome = await pacedReplay(history, room, joiner, since)
        if (outcome === null) return // closed, or gone: no `joined` after a partial replay
        this.opts.replayed(outcome.frames)
        return this.start(room, joiner, outcome.start, outcome.recovered, reply)
      } catch (err) {
        // Nothing was written: the client learns it must reload.
        this.opts.log.warn({ err, room: room.name }, 'reading the history for a join failed')
      }
    }
    if (room.joiners.includes(joiner)) this.startUnread(room, joiner, since, reply)
  }

  /**
   * A resume no read answered (Redis out of reach, or the read failed): `recovered:false`, from the
   * feed's position, unless the feed is catching up (its link is or was down) and the client is
   * further: further in the feed's epoch, or in an epoch the feed has not reached. From the feed's
   * position that client would get again what it had once the feed caught up, so it starts at its
   * `since`, unchecked: a catch-up read sent after this tells whether the room got there, and the
   * joiner resumes if it did not (promoteReached), or joins the room's new epoch if it moved to one
   * (promoteLeft). A feed in sync hears the room as it goes: its position is where the room is, so
   * a read is never asked for just to check one joiner (it would hold up, or on a timeout close,
   * every member of the room).
   */
  private startUnread (room: Room, joiner: Joiner, since: Position, reply: JoinReply): void {
    const at = room.position
    const ahead = room.syncing && at !== null && (since.epoch === at.epoch ? since.offset > at.offset : !room.left.includes(since.epoch))
    if (!ahead) return this.start(room, joiner, at, false, reply)
    joiner.unchecked = room.reads
    // A read under way may have been sent before the client's `since` was stored: one more follows it.
    if (room.resyncing) room.resyncAgain = true
    this.start(room, joiner, since, false, reply)
  }

  /**
   * Joiners see the feed too, after the members: held while they wait for their start, or
   * promoted once the feed reaches it. The message that reaches it is usually the last of their
   * replay, so they join the members for the next one; but a start of a history that has no
   * message yet (offset 0 of a new epoch) is reached by a message after it, which they need too.
   */
  feed (room: Room, offset: number, epoch: string, frame: Buffer): void {
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

  /**
   * The feed caught up with catch-up read number `read`: joiners whose start it reached become
   * members. One that started at a `since` no read checked (startUnread) and is still short of it
   * after a read sent later asked for what the room never had (beyond its top, or of an epoch it
   * does not have): told `joined` at that position, it must not now get lower offsets, or another
   * epoch, as if they came after it. It resumes (4010), and is answered from the history.
   */
  promoteReached (room: Room, read: number): void {
    for (const joiner of [...room.joiners]) {
      const start = joiner.start
      if (start === null) continue
      if (room.reached(start)) this.promote(room, joiner)
      else if (joiner.unchecked !== null && joiner.unchecked < read) joiner.conn.close(CloseCode.RESUME_NEEDED, 'resume needed')
    }
  }

  /**
   * The feed leaves its epoch for `epoch`. Joiners that wait for a position of another history
   * will never reach it: they got all of it that they will get, and become members, who see the
   * new epoch on its first message ("messages may have been lost"), as on any loss of a history,
   * which never closes a socket. So does one that started at a `since` of an epoch the feed never
   * had (startUnread): a new epoch is a new history, and starts after anything it had.
   */
  promoteLeft (room: Room, epoch: string): void {
    for (const joiner of [...room.joiners]) {
      if (joiner.start !== null && joiner.start.epoch !== epoch) this.promote(room, joiner)
    }
  }

  /**
   * The feed learnt its position for the first time. Members that joined before (while Redis was
   * out of reach) got no position: if the history holds anything, some of it may have been stored
   * after their `joined`, and nothing tells which. They resume; with nothing stored they are fine.
   */
  sight (room: Room, at: Position): void {
    const blind = room.blind ?? []
    room.blind = null
    if (at.offset === 0) return
    // Closed, not removed here: the close removes it from the room (and from presence) as any close does.
    for (const conn of blind) {
      if (room.members.has(conn)) conn.close(CloseCode.RESUME_NEEDED, 'resume needed')
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
      room.blind ??= new Set()
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

  private promote (room: Room, joiner: Joiner): void {
    room.joiners = room.joiners.filter(j => j !== joiner)
    room.members.add(joiner.conn)
  }
}
