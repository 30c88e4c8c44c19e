/**
 * One member's frames, socket after socket: offsets run without a gap within an epoch, and any
 * break is one the member was told of (a new epoch, a 4010, `recovered:false`).
 */
import type { Entry, MemberLog, Position } from './history-log.js'
import type { Violation, ViolationKind } from './violations.js'

/** Where a member that joined without a position first heard its room: checked against the history. */
export interface BlindJoin { member: string, room: string, joinedAt: number, epoch: string, firstOffset: number }

const span = (from: number, to: number): string => from === to ? String(from) : `${from}..${to}`

/**
 * A time when commands of an instance (or of all: `null`) could legitimately miss their deadline
 * (a stall, a cut, a pause, killed connections), so a 4010 then may be a read that timed out.
 */
export interface DeadlineWindow {
  from: number
  to: number
  instance: number | null
  /** Redis itself was restarting: a resume may be refused recovery, but no socket closed. */
  redisRestart?: boolean
}

/** The socket-by-socket walk of one member's frames. */
export function checkMember (log: MemberLog, historySize: number, windows: DeadlineWindow[], out: Violation[], blind: BlindJoin[]): number {
  const { name: member, room, entries } = log
  const flag = (kind: ViolationKind, detail: string): void => { out.push({ kind, member, room, detail }) }
  const within = (w: DeadlineWindow, at: number): boolean => w.from <= at && at <= w.to && (w.instance === null || w.instance === log.instance)
  let pos: Position | null = null
  /** A 4010 close makes the next break legitimate: the member was told to resume. */
  let told = false
  /**
   * Where the member stood when a 4010 closed it, unless a deadline could explain the close: the
   * first rejoin shows whether it was for a lost history.
   */
  let closedAt: Position | null = null
  let since: Position | undefined
  let joinedBlindAt: number | null = null
  let lastMessage = -1
  let checked = 0
  const ids = new Set<string>()
  const pairs = new Set<string>()
  entries.forEach((e, i) => {
    switch (e.t) {
      case 'close':
        if (e.code === 4010) {
          told = true
          const excused = windows.some(w => w.redisRestart !== true && within(w, e.at))
          closedAt = excused ? null : pos
        }
        return
      case 'join':
        since = e.since
        return
      case 'joined':
        if (e.epoch === undefined || e.offset === undefined) {
          pos = null
          joinedBlindAt = e.at
          closedAt = null // a rejoin that says nothing of the epoch cannot tell why it was closed
          return
        }
        if (since !== undefined && e.recovered === true && pos !== null && pos.epoch === e.epoch && pos.offset < e.offset) {
          flag('replay-incomplete', `recovered:true at ${e.epoch}/${e.offset} but the replay stopped at ${pos.offset}`)
        }
        if (since !== undefined && e.recovered === false && since.epoch === e.epoch && e.offset >= since.offset && e.offset - since.offset <= historySize &&
          !windows.some(w => within(w, e.at))) {
          flag('recovery-refused', `recovered:false from ${since.epoch}/${since.offset}, top ${e.offset} of the same epoch`)
        }
        if (closedAt !== null && closedAt.epoch !== e.epoch) {
          flag('closed-on-history-loss', `closed with 4010 at ${closedAt.epoch}/${closedAt.offset}; the room came back as ${e.epoch}/${e.offset}`)
        }
        closedAt = null
        pos = { epoch: e.epoch, offset: e.offset }
        joinedBlindAt = null
        return
      case 'message': {
        if (e.offset === undefined || e.epoch === undefined) return
        checked++
        const pair = `${e.epoch}/${e.offset}`
        if (ids.has(e.messageId)) {
          flag('duplicate', `${pair} (${e.messageId}) again`)
          return
        }
        // Another message at an (epoch, offset) already heard: flagged once as offset-reused, below.
        if (pairs.has(pair)) return
        ids.add(e.messageId)
        pairs.add(pair)
        const last: Position | null = pos
        if (last === null) {
          if (joinedBlindAt !== null) blind.push({ member, room, joinedAt: joinedBlindAt, epoch: e.epoch, firstOffset: e.offset })
        } else if (e.epoch !== last.epoch) {
          if (log.kind === 'typed' && !gapRaised(entries, lastMessage + 1, i, e.epoch)) {
            flag('epoch-change-unseen', `${last.epoch}/${last.offset} then ${pair} with no gap event`)
          }
        } else if (e.offset <= last.offset) {
          flag('out-of-order', `${pair} after ${last.offset}`)
        } else if (e.offset > last.offset + 1 && !told) {
          flag('gap', `${e.epoch}: missed ${span(last.offset + 1, e.offset - 1)} (got ${e.offset} after ${last.offset})`)
        }
        pos = { epoch: e.epoch, offset: e.offset }
        told = false
        joinedBlindAt = null
        lastMessage = i
      }
    }
  })
  return checked
}

/** Whether the typed client raised `gap` for `epoch` between the last message and the end of the socket. */
function gapRaised (entries: Entry[], from: number, at: number, epoch: string): boolean {
  for (let i = from; i < entries.length; i++) {
    const e = entries[i]
    if (e.t === 'gap' && e.epoch === epoch) return true
    if (i > at && e.t === 'close') return false
  }
  return false
}
