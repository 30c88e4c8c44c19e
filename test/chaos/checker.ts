/**
 * The invariant checker: judges a run's record (history-log.ts) after the fact, against "Delivery
 * under faults". Pure: the same record gives the same verdict, so its unit test feeds it made-up
 * records (checker.test.ts). The checks that need the live system (probes, presence, memory) are
 * in end-checks.ts and add their violations to the same list.
 */
import { tokenOf, type Entry, type MemberLog, type Position, type StoredHistory } from './history-log.js'

export type ViolationKind =
  /** Offsets skipped within an epoch with no 4010 and no `recovered:false` between. */
  | 'gap'
  /** A message received twice by one member. */
  | 'duplicate'
  /** An offset lower than the last one of the same epoch. */
  | 'out-of-order'
  /** A typed client got a message of a new epoch and raised no `gap` event. */
  | 'epoch-change-unseen'
  /** A 4010 close where the room's history was lost (a new epoch): that must be told in-band, sockets stay open. */
  | 'closed-on-history-loss'
  /** `recovered:false` though the epoch was the same and the history still held what was missed. */
  | 'recovery-refused'
  /** `recovered:true`, but the replay stopped short of the `joined` offset. */
  | 'replay-incomplete'
  /** A member that joined with no position never got messages stored after its `joined`. */
  | 'missed-after-join'
  /** One (room, epoch, offset) named two different messages. */
  | 'offset-reused'
  /** An acknowledged message of the room's current epoch is not in its history. */
  | 'acked-lost'
  /** A send stored twice (its token twice in a history, or one key acknowledged at two offsets of an epoch). */
  | 'stored-twice'
  /** The stored history itself has a hole. */
  | 'history-hole'
  /** A send that got no reply while its socket stayed open (or a typed send that timed out). */
  | 'send-unanswered'
  // Live checks (end-checks.ts):
  | 'room-frozen' | 'probe-refused' | 'member-not-back' | 'presence-not-converged' | 'cluster-not-converged'
  | 'memory-bound' | 'instance-not-ready' | 'shutdown-hung'

export interface Violation {
  kind: ViolationKind
  member?: string
  room?: string
  detail: string
}

export interface CheckInput {
  members: MemberLog[]
  histories: StoredHistory[]
  historySize: number
  /** When the record ends (a pending send older than `unansweredMs` then is unanswered). */
  endAt: number
  /** A reply later than this after its send, on a socket that stayed open, is a violation. */
  unansweredMs: number
}

export interface CheckResult {
  violations: Violation[]
  messagesChecked: number
  sends: number
  acks: number
  /** How the sends settled: `ack`, `lost`, `pending`, or the error code. */
  outcomes: Record<string, number>
}

/** Where a member that joined without a position first heard its room: checked against the history. */
interface BlindJoin { member: string, room: string, joinedAt: number, epoch: string, firstOffset: number }

const span = (from: number, to: number): string => from === to ? String(from) : `${from}..${to}`

/** The socket-by-socket walk of one member's frames. */
function checkMember (log: MemberLog, historySize: number, out: Violation[], blind: BlindJoin[]): number {
  const { name: member, room, entries } = log
  const flag = (kind: ViolationKind, detail: string): void => { out.push({ kind, member, room, detail }) }
  let pos: Position | null = null
  /** A 4010 close makes the next break legitimate: the member was told to resume. */
  let told = false
  /** Where the member stood when a 4010 closed it: the rejoin shows whether it was a lost history. */
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
          closedAt = pos
        }
        return
      case 'join':
        since = e.since
        return
      case 'joined':
        if (e.epoch === undefined || e.offset === undefined) {
          pos = null
          joinedBlindAt = e.at
          return
        }
        if (since !== undefined && e.recovered === true && pos !== null && pos.epoch === e.epoch && pos.offset < e.offset) {
          flag('replay-incomplete', `recovered:true at ${e.epoch}/${e.offset} but the replay stopped at ${pos.offset}`)
        }
        if (since !== undefined && e.recovered === false && since.epoch === e.epoch && e.offset >= since.offset && e.offset - since.offset <= historySize) {
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

export function checkRun (input: CheckInput): CheckResult {
  const violations: Violation[] = []
  const blind: BlindJoin[] = []
  let messagesChecked = 0
  for (const log of input.members) messagesChecked += checkMember(log, input.historySize, violations, blind)

  const histories = new Map(input.histories.map(h => [h.room, h]))
  const stored = new Map(input.histories.map(h => [h.room, new Map(h.entries.map(x => [x.offset, x]))]))

  // No (room, epoch, offset) may name two messages: across every member, ack and the history.
  const names = new Map<string, string>()
  const reused = new Set<string>()
  const name = (room: string, epoch: string, offset: number, messageId: string, where: string): void => {
    const pair = `${room} ${epoch}/${offset}`
    const known = names.get(pair)
    if (known === undefined) names.set(pair, messageId)
    else if (known !== messageId && !reused.has(pair)) {
      reused.add(pair)
      violations.push({ kind: 'offset-reused', room, detail: `${epoch}/${offset} is ${known} and ${messageId} (${where})` })
    }
  }
  for (const h of input.histories) for (const x of h.entries) if (h.epoch !== null) name(h.room, h.epoch, x.offset, x.messageId, 'history')
  for (const log of input.members) {
    for (const e of log.entries) if (e.t === 'message' && e.epoch !== undefined && e.offset !== undefined) name(log.room, e.epoch, e.offset, e.messageId, `received by ${log.name}`)
  }

  // Stored histories: no hole, no send stored twice.
  for (const h of input.histories) {
    h.entries.forEach((x, i) => {
      if (i > 0 && x.offset !== h.entries[i - 1].offset + 1) violations.push({ kind: 'history-hole', room: h.room, detail: `${h.epoch}: ${h.entries[i - 1].offset} then ${x.offset}` })
    })
    const tokens = new Map<string, number>()
    for (const x of h.entries) {
      const token = tokenOf(x.data)
      if (token !== null) tokens.set(token, (tokens.get(token) ?? 0) + 1)
    }
    for (const [token, count] of tokens) if (count > 1) violations.push({ kind: 'stored-twice', room: h.room, detail: `${token} stored ${count} times in ${h.epoch}` })
  }

  let sends = 0
  let acks = 0
  const outcomes: Record<string, number> = {}
  for (const log of input.members) {
    const flag = (kind: ViolationKind, detail: string): void => { violations.push({ kind, member: log.name, room: log.room, detail }) }
    const keyOffsets = new Map<string, Set<string>>()
    for (const send of log.sends) {
      sends++
      const outcome = send.outcome === 'error' ? send.error ?? 'error' : send.outcome
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      const waited = (send.settledAt ?? input.endAt) - send.sentAt
      // A raw send not `lost` had its socket open until its reply (or the end); a typed send may
      // wait over reconnects, so only its own time-out counts.
      if (log.kind === 'raw' && send.outcome !== 'lost' && waited > input.unansweredMs) {
        flag('send-unanswered', `${send.token}: no reply for ${waited} ms (${send.outcome})`)
      }
      if (send.error === 'timeout') flag('send-unanswered', `${send.token}: the typed client timed out (${waited} ms)`)
      if (send.outcome !== 'ack' || send.ack === undefined) continue
      acks++
      const { messageId, offset, epoch } = send.ack
      if (offset === undefined || epoch === undefined) continue
      name(log.room, epoch, offset, messageId, `ack of ${send.token}`)
      if (send.key !== undefined) {
        const at = keyOffsets.get(send.key) ?? new Set()
        at.add(`${epoch}/${offset}`)
        keyOffsets.set(send.key, at)
      }
      const h = histories.get(log.room)
      if (h === undefined || h.epoch !== epoch || offset <= h.top - input.historySize) continue
      const entry = stored.get(log.room)?.get(offset)
      if (entry === undefined || entry.messageId !== messageId) {
        flag('acked-lost', `${send.token} acknowledged as ${epoch}/${offset} (${messageId}); the history holds ${entry === undefined ? 'nothing' : entry.messageId} there`)
      }
    }
    for (const [key, at] of keyOffsets) {
      const epochs = [...at].map(p => p.split('/')[0])
      if (new Set(epochs).size < epochs.length) flag('stored-twice', `key ${key} acknowledged at ${[...at].join(', ')}`)
    }
  }

  // A member that joined blind must still get every message stored after its `joined`.
  for (const b of blind) {
    const h = histories.get(b.room)
    if (h === undefined || h.epoch !== b.epoch) continue
    const missed = h.entries.filter(x => x.offset < b.firstOffset && x.ts > b.joinedAt).map(x => x.offset)
    if (missed.length > 0) {
      violations.push({ kind: 'missed-after-join', member: b.member, room: b.room, detail: `joined with no position, first got ${b.firstOffset}; never got ${missed.join(',')} stored after its joined` })
    }
  }
  return { violations, messagesChecked, sends, acks, outcomes }
}
