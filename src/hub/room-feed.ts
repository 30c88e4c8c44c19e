/**
 * Ordered delivery of a room's stored messages on this instance (see room.ts). The rule: the feed
 * delivers offset top+1 next and nothing else. A message that skips ahead, or the return of a lost
 * link, makes the feed read what it missed from the history and deliver that first. If the history
 * no longer holds it (the link was down longer than the history lasts, or the history itself was
 * lost), no member can be given a gap-free stream: each is closed with 4010 to resume with `since`.
 */
import type { HistoryStore, Position } from '../history/history-store.js'
import { CloseCode } from '../protocol.js'
import type { HubLog, JoinReply } from './hub.js'
import type { Joiner, Room } from './room.js'

/** Retry delay of a history read that failed while the store looked available. */
const RESYNC_RETRY_MS = 1000
/**
 * Stored messages a syncing room keeps while it waits for the history. Past this the waiting ones
 * are dropped and read from the history instead (they are all in it, or the room is lost anyway):
 * a long outage of the history must not grow memory without bound.
 */
export const MAX_PENDING = 10_000

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
  log: HubLog
}

export class RoomFeed {
  constructor (private readonly opts: RoomFeedOptions) {}

  receive (room: Room, offset: number, epoch: string, frame: Buffer): void {
    if (room.syncing) {
      if (room.pending.length >= MAX_PENDING) {
        room.pending = []
        // What was dropped may have come after the read under way: read once more after it.
        if (room.resyncing) room.resyncAgain = true
      }
      room.pending.push({ offset, epoch, frame })
      return
    }
    if (epoch === room.epoch) {
      if (offset <= room.top) return // delivered already (a replay crossed the live stream)
      if (offset === room.top + 1) return this.deliver(room, offset, epoch, frame)
    } else if (offset === 1) {
      // A new history (the old one expired or was flushed) began, and over a link that never
      // dropped this instance got every message of the old one: nothing is missing.
      return this.deliver(room, offset, epoch, frame)
    }
    room.pending.push({ offset, epoch, frame })
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
    const from = room.position
    let result
    try {
      result = await history.since(room.name, from)
    } catch (err) {
      room.resyncing = false
      this.opts.log.warn({ err, room: room.name }, 'reading the room history failed; retrying')
      setTimeout(() => { if (this.opts.isCurrent(room) && room.syncing) this.resync(room) }, RESYNC_RETRY_MS).unref()
      return
    }
    room.resyncing = false
    if (!this.opts.isCurrent(room)) return
    // The link dropped during the read: what it read may already be behind; the return reads again.
    if (!this.opts.linked()) return
    room.syncing = false
    if (from !== null && !result.recovered) this.lost(room)
    if (result.recovered) {
      let offset = from === null ? 0 : from.offset
      for (const frame of result.messages) this.deliver(room, ++offset, result.position.epoch, frame)
    }
    room.epoch = result.position.epoch
    room.top = result.position.offset
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
    if (since === null) return this.start(room, joiner, room.position, undefined, [], reply)
    let start = room.position
    let recovered = false
    let replay: Buffer[] = []
    if (history.available()) {
      try {
        const result = await history.since(room.name, since)
        start = result.position
        recovered = result.recovered
        replay = result.messages
      } catch (err) {
        // Never a partial replay presented as recovered: the client learns it must reload.
        this.opts.log.warn({ err, room: room.name }, 'reading the history for a join failed')
      }
    }
    if (!room.joiners.includes(joiner)) return
    this.start(room, joiner, start, recovered, replay, reply)
  }

  private start (room: Room, joiner: Joiner, start: Position | null, recovered: boolean | undefined,
    replay: Buffer[], reply: JoinReply): void {
    const conn = joiner.conn
    for (const frame of replay) conn.send(frame)
    reply(start, recovered)
    const held = joiner.held
    joiner.held = []
    if (start === null) {
      // Redis is down and the room's position unknown: it receives whatever comes from now on.
      for (const message of held) conn.send(message.frame)
      this.opts.replayed(replay.length + held.length)
      return this.promote(room, joiner)
    }
    joiner.start = start
    let newer = false
    let sent = replay.length
    for (const message of held) {
      if (message.epoch === start.epoch) {
        if (message.offset > start.offset) {
          conn.send(message.frame)
          sent++
        }
      } else if (message.epoch === room.epoch) {
        newer = true
      }
    }
    this.opts.replayed(sent)
    // The feed moved to another history after this read: the joiner's start is of a lost one.
    if (newer) return this.resume(room, joiner)
    if (room.reached(start)) this.promote(room, joiner)
  }

  private deliver (room: Room, offset: number, epoch: string, frame: Buffer): void {
    if (epoch !== room.epoch) this.epochChanged(room, epoch)
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

  /** Joiners that wait for a position of a history the feed has left will never reach it. */
  private epochChanged (room: Room, epoch: string): void {
    for (const joiner of [...room.joiners]) {
      if (joiner.start !== null && joiner.start.epoch !== epoch) this.resume(room, joiner)
    }
  }

  /** Stored messages that came while the feed caught up, in order; a new gap stops the drain. */
  private drain (room: Room): void {
    const pending = room.pending
    room.pending = []
    for (let i = 0; i < pending.length; i++) {
      if (room.syncing) {
        room.pending.push(...pending.slice(i))
        return
      }
      const { offset, epoch, frame } = pending[i]
      this.receive(room, offset, epoch, frame)
    }
  }

  /** Messages were lost for this room: every member and joiner resumes with `since`. */
  private lost (room: Room): void {
    const conns = [...room.members, ...room.joiners.map(joiner => joiner.conn)]
    if (conns.length > 0) this.opts.log.warn({ room: room.name, connections: conns.length }, 'room history lost while its link was down; members must resume')
    for (const conn of conns) conn.close(CloseCode.RESUME_NEEDED, 'resume needed')
  }

  private resume (room: Room, joiner: Joiner): void {
    room.joiners = room.joiners.filter(j => j !== joiner)
    joiner.conn.close(CloseCode.RESUME_NEEDED, 'resume needed')
  }

  private promote (room: Room, joiner: Joiner): void {
    room.joiners = room.joiners.filter(j => j !== joiner)
    room.members.add(joiner.conn)
  }
}
