/**
 * The invariant checker on made-up records: a clean record passes, and each broken invariant
 * (a gap, a duplicate, an epoch change the typed client did not report, ...) is flagged as its kind.
 */
import { test } from 'tap'
import { checkRun, type CheckInput, type ViolationKind } from './checker.js'
import type { Entry, MemberLog, Send, StoredHistory } from './history-log.js'

let clock = 1000
const msg = (offset: number, epoch = 'E1', messageId = `${epoch}-${offset}`): Entry =>
  ({ t: 'message', at: clock++, room: 'r', messageId, offset, epoch, data: { c: 'x', n: offset } })
const joined = (offset: number, epoch = 'E1', recovered?: boolean): Entry => ({ t: 'joined', at: clock++, room: 'r', offset, epoch, recovered })
const join = (since?: { offset: number, epoch: string }): Entry => ({ t: 'join', at: clock++, room: 'r', since })
const close = (code: number): Entry => ({ t: 'close', at: clock++, code })
const gap = (epoch: string): Entry => ({ t: 'gap', at: clock++, room: 'r', offset: 0, epoch })

function member (entries: Entry[], kind: MemberLog['kind'] = 'raw', sends: Send[] = []): MemberLog {
  return { name: 'm', kind, room: 'r', instance: 0, entries, sends }
}

function history (offsets: number[], epoch = 'E1', data = (o: number): unknown => ({ c: 'x', n: o })): StoredHistory {
  return { room: 'r', epoch, top: Math.max(0, ...offsets), entries: offsets.map(offset => ({ offset, messageId: `${epoch}-${offset}`, ts: 0, data: data(offset) })) }
}

function kinds (members: MemberLog[], histories: StoredHistory[] = [history([1, 2, 3, 4])], deadlineWindows: CheckInput['deadlineWindows'] = []): ViolationKind[] {
  const input: CheckInput = { members, histories, historySize: 100, endAt: clock + 1, unansweredMs: 10_000, deadlineWindows }
  return checkRun(input).violations.map(v => v.kind)
}

test('a clean record: runs within an epoch, a resume, an epoch change the typed client reported', async (t) => {
  t.same(kinds([member([join(), joined(0), msg(1), msg(2), close(1006), join({ offset: 2, epoch: 'E1' }), msg(3), joined(3, 'E1', true), msg(4)])]), [])
  t.same(kinds([member([join(), joined(0), msg(1), msg(2), msg(1, 'E2'), gap('E2'), msg(2, 'E2')], 'typed')], [history([1, 2], 'E2')]), [])
  t.same(kinds([member([join(), joined(2), msg(3), msg(1, 'E2')], 'raw')], [history([1], 'E2')]), [], 'a raw member sees the new epoch on the frame')
})

test('a gap within an epoch is flagged; after a 4010 or recovered:false it is not', async (t) => {
  t.same(kinds([member([join(), joined(0), msg(1), msg(3), msg(4)])]), ['gap'])
  t.same(kinds([member([join(), joined(0), msg(1), close(4010), join(), msg(3)])]), [], 'a 4010 tells the member')
  t.same(kinds([member([join(), joined(0), msg(1), close(4010), join({ offset: 1, epoch: 'E1' }), msg(2), msg(3), joined(3, 'E1', true), msg(4)])]), [], 'a 4010 and a resume in the same epoch')
  t.same(kinds([member([join(), joined(0), msg(1), close(4010), join({ offset: 1, epoch: 'E1' }), joined(0, 'E2', false), msg(1, 'E2')])], [history([1], 'E2')]),
    ['closed-on-history-loss'], 'a lost history is told in-band, not by closing')
  const closedThenNewEpoch = (): MemberLog => member([join(), joined(0), msg(1), close(4010), join({ offset: 1, epoch: 'E1' }), joined(0, 'E2', false), msg(1, 'E2')])
  t.same(kinds([closedThenNewEpoch()], [history([1], 'E2')], [{ from: 0, to: clock + 100, instance: null }]), [],
    'unless a fault could make a read miss its deadline then')
  t.same(kinds([closedThenNewEpoch()], [history([1], 'E2')], [{ from: 0, to: clock + 100, instance: 1 }]), ['closed-on-history-loss'],
    'a fault on another instance is no excuse')
  t.same(kinds([member([join(), joined(0), msg(1), close(1006), join({ offset: 1, epoch: 'E0' }), joined(3, 'E1', false), msg(4)])]), [])
  t.same(kinds([member([join(), joined(0), msg(1), close(1006), join({ offset: 1, epoch: 'E1' }), joined(3, 'E1', true), msg(4)])]), ['replay-incomplete'])
  t.same(kinds([member([join(), joined(0), msg(1), close(1006), join({ offset: 1, epoch: 'E1' }), joined(3, 'E1', false), msg(4)])]), ['recovery-refused'])
  const refused = (): MemberLog => member([join(), joined(0), msg(1), close(1006), join({ offset: 1, epoch: 'E1' }), joined(3, 'E1', false), msg(4)])
  t.same(kinds([refused()], undefined, [{ from: 0, to: clock + 100, instance: null, redisRestart: true }]), [],
    'Redis unreachable (restarting): a join is answered, not recovered, as the contract says')
  t.same(kinds([refused()], undefined, [{ from: 0, to: 0, instance: null, redisRestart: true }]), ['recovery-refused'], 'but not after it')
  t.same(kinds([closedThenNewEpoch()], [history([1], 'E2')], [{ from: 0, to: clock + 100, instance: null, redisRestart: true }]), ['closed-on-history-loss'],
    'a Redis restart never excuses a 4010')
})

test('a duplicate is flagged, and another message at an offset already heard', async (t) => {
  t.same(kinds([member([join(), joined(0), msg(1), msg(2), msg(2)])]), ['duplicate'])
  t.same(kinds([member([join(), joined(0), msg(1), msg(2), msg(2, 'E1', 'other')])]), ['offset-reused'], 'another message at a known offset')
  t.same(kinds([member([join(), joined(0), msg(1), msg(3), msg(2)])]), ['gap', 'out-of-order'])
})

test('an epoch change the typed client did not report is flagged', async (t) => {
  t.same(kinds([member([join(), joined(0), msg(1), msg(2), msg(1, 'E2'), msg(2, 'E2')], 'typed')], [history([1, 2], 'E2')]), ['epoch-change-unseen'])
  t.same(kinds([member([join(), joined(2), msg(1, 'E2')], 'typed')], [history([1], 'E2')]), ['epoch-change-unseen'], 'also right after joined')
})

test('acknowledged sends: stored exactly once at their offset, never lost within the epoch', async (t) => {
  const ack = (offset: number, key = `k${offset}`, messageId = `E1-${offset}`): Send =>
    ({ token: `x:${offset}`, key, sentAt: 0, settledAt: 1, outcome: 'ack', ack: { messageId, offset, epoch: 'E1' } })
  t.same(kinds([member([], 'raw', [ack(1), ack(2)])], [history([1, 2])]), [])
  t.same(kinds([member([], 'raw', [ack(1), ack(3)])], [history([1, 2])]), ['acked-lost'], 'the history ends before it')
  t.same(kinds([member([], 'raw', [ack(1), ack(2, 'k1')])], [history([1, 2])]), ['stored-twice'], 'one key at two offsets')
  t.same(kinds([member([], 'raw', [])], [history([1, 2], 'E1', () => ({ c: 'x', n: 9 }))]), ['stored-twice'], 'one send twice in the history')
  t.same(kinds([member([], 'raw', [ack(2, 'k2', 'E1-lost')])], [history([1, 2])]), ['offset-reused', 'acked-lost'], 'a rollback reused its offset')
  t.same(kinds([member([], 'raw', [{ token: 'x:1', sentAt: clock - 20_000, outcome: 'pending' }])]), ['send-unanswered'], 'no reply for 20 s on an open socket')
})

test('a member that joined with no position misses nothing stored after its joined', async (t) => {
  const blindJoin: Entry = { t: 'joined', at: 500, room: 'r' }
  const stored: StoredHistory = { room: 'r', epoch: 'E1', top: 3, entries: [1, 2, 3].map(offset => ({ offset, messageId: `E1-${offset}`, ts: 400 + offset * 100, data: {} })) }
  t.same(kinds([member([join(), blindJoin, msg(2), msg(3)])], [stored]), [], 'message 1 was stored before its joined')
  t.same(kinds([member([join(), blindJoin, msg(3)])], [stored]), ['missed-after-join'])
})
