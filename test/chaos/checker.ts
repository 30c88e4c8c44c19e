/**
 * The invariant checker: judges a run's record (history-log.ts) after the fact, against "Delivery
 * under faults". Pure: the same record gives the same verdict, so its unit test feeds it made-up
 * records (checker.test.ts). Each member's frames are walked in member-walk.ts; what spans members
 * (an offset named twice, acknowledged sends against the stored history) is checked here. The
 * checks that need the live system (probes, presence, memory) are in end-checks.ts and add their
 * violations to the same list.
 */
import { tokenOf, type MemberLog, type StoredHistory } from './history-log.js'
import { checkMember, type BlindJoin, type DeadlineWindow } from './member-walk.js'
import type { Violation, ViolationKind } from './violations.js'

export type { DeadlineWindow, Violation, ViolationKind }

export interface CheckInput {
  members: MemberLog[]
  histories: StoredHistory[]
  historySize: number
  /** When the record ends (a pending send older than `unansweredMs` then is unanswered). */
  endAt: number
  /** A reply later than this after its send, on a socket that stayed open, is a violation. */
  unansweredMs: number
  /** When a 4010 may have been a deadline rather than a lost history (see DeadlineWindow). */
  deadlineWindows?: DeadlineWindow[]
}

export interface CheckResult {
  violations: Violation[]
  messagesChecked: number
  sends: number
  acks: number
  /** How the sends settled: `ack`, `lost`, `pending`, or the error code. */
  outcomes: Record<string, number>
}

export function checkRun (input: CheckInput): CheckResult {
  const violations: Violation[] = []
  const blind: BlindJoin[] = []
  let messagesChecked = 0
  for (const log of input.members) messagesChecked += checkMember(log, input.historySize, input.deadlineWindows ?? [], violations, blind)

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
