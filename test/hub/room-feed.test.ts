/**
 * The room feed's ordering rules without Redis timing: a history stand-in answers joins from a
 * point the feed has not delivered yet (as a Redis read does when this instance's subscriber lags
 * behind), and the test drives deliveries by hand. The store is a stand-in because the behaviour
 * under test is the hub's, not Redis's (the cluster tests run the same paths on a real Redis).
 */
import t from 'tap'
import type { HistoryStore, Position, SinceResult } from '../../src/hub/history-port.js'
import { Hub } from '../../src/hub/hub.js'
import { MAX_PENDING_BYTES } from '../../src/hub/room-feed.js'
import { fakeConnection } from './fake-connection.js'

const frame = (offset: number) => Buffer.from(`{"type":"message","room":"r","data":${offset},"offset":${offset},"epoch":"E"}`)

/** Answers every read as of `top` (ahead of what the test has delivered to the hub). */
function historyAt (top: number): HistoryStore {
  return {
    available: () => true,
    append: async () => { throw new Error('not used') },
    since: async (_room: string, from: Position | null): Promise<SinceResult> => {
      const position = { epoch: 'E', offset: from === null ? 0 : top }
      if (from === null) return { position, recovered: false, messages: [] }
      const messages = []
      for (let o = from.offset + 1; o <= top; o++) messages.push(frame(o))
      return { position, recovered: true, messages }
    },
    // One page holds the whole replay here; a test may replace `since`, which this follows.
    sincePage (room: string, from: Position) { return this.since(room, from) },
    page: async () => { throw new Error('not used') },
    fence: async () => {},
    close: () => {}
  }
}

t.test('a joiner whose replay is ahead of the feed gets each later message once, in order', async t => {
  const hub = new Hub()
  hub.useHistory(historyAt(3))
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  const joiner = fakeConnection()
  const answers: Array<[Position | null, boolean | undefined]> = []
  await hub.join(joiner, 'r', { epoch: 'E', offset: 0 }, (start, recovered) => answers.push([start, recovered]))
  t.same(answers, [[{ epoch: 'E', offset: 3 }, true]])
  t.same(joiner.got, [1, 2, 3], 'the replay')
  // Now the feed catches up with what the read saw, and goes on.
  for (let offset = 1; offset <= 5; offset++) hub.deliverStored('r', offset, 'E', frame(offset))
  t.same(member.got, [1, 2, 3, 4, 5])
  t.same(joiner.got, [1, 2, 3, 4, 5], 'nothing twice where the replay meets the feed')
})

t.test('messages the feed delivers during the read are not lost nor repeated', async t => {
  const hub = new Hub()
  let release: () => void = () => {}
  const slow = historyAt(2)
  const since = slow.since.bind(slow)
  slow.since = async (room, from) => {
    if (from !== null) await new Promise<void>(resolve => { release = resolve })
    return since(room, from)
  }
  hub.useHistory(slow)
  await hub.join(fakeConnection(), 'r', null, () => {})
  const joiner = fakeConnection()
  const joined = hub.join(joiner, 'r', { epoch: 'E', offset: 0 }, () => {})
  await new Promise(resolve => setImmediate(resolve))
  for (let offset = 1; offset <= 4; offset++) hub.deliverStored('r', offset, 'E', frame(offset))
  release()
  await joined
  hub.deliverStored('r', 5, 'E', frame(5))
  t.same(joiner.got, [1, 2, 3, 4, 5], 'replay 1..2, then 3..4 held during the read, then live')
})

t.test('a gap in the live stream is filled from the history before anything newer', async t => {
  const hub = new Hub()
  hub.useHistory(historyAt(0))
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  hub.useHistory(historyAt(4)) // the history has 1..4; this instance heard only 1 and 4
  hub.deliverStored('r', 1, 'E', frame(1))
  hub.deliverStored('r', 4, 'E', frame(4))
  await new Promise(resolve => setImmediate(resolve))
  hub.deliverStored('r', 5, 'E', frame(5))
  t.same(member.got, [1, 2, 3, 4, 5])
})

t.test('a joiner that starts at offset 0 of a new history gets its first message', async t => {
  // The room's history expired while its member idled; a rejoin read found it gone and started
  // E2 with nothing in it. The first message of E2 is the one that brings the feed to the joiner.
  const hub = new Hub()
  const history = historyAt(0)
  hub.useHistory(history)
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  history.since = async () => ({ position: { epoch: 'E2', offset: 0 }, recovered: false, messages: [] })
  const joiner = fakeConnection()
  const answers: Array<[Position | null, boolean | undefined]> = []
  await hub.join(joiner, 'r', { epoch: 'E', offset: 5 }, (start, recovered) => answers.push([start, recovered]))
  t.same(answers, [[{ epoch: 'E2', offset: 0 }, false]])
  hub.deliverStored('r', 1, 'E2', frame(1))
  hub.deliverStored('r', 2, 'E2', frame(2))
  t.same(member.got, [1, 2])
  t.same(joiner.got, [1, 2], 'E2/1 included')
})

/** A history stand-in whose reads see `state.top` and wait for `state.gate` first. */
function gatedHistory (state: { top: number, gate: Promise<void> }): HistoryStore {
  return {
    available: () => true,
    append: async () => { throw new Error('not used') },
    since: async (_room: string, from: Position | null): Promise<SinceResult> => {
      const seen = state.top
      await state.gate
      const messages = []
      for (let o = (from?.offset ?? seen) + 1; o <= seen; o++) messages.push(frame(o))
      return { position: { epoch: 'E', offset: seen }, recovered: from !== null, messages }
    },
    // One page holds the whole replay here; a test may replace `since`, which this follows.
    sincePage (room: string, from: Position) { return this.since(room, from) },
    page: async () => { throw new Error('not used') },
    fence: async () => {},
    close: () => {}
  }
}

t.test('a feed does not count itself in sync while the link is down, so the link\'s return fills the gap', async t => {
  const hub = new Hub()
  let status: 'connected' | 'reconnecting' = 'connected'
  hub.useBroker({
    subscribeRoom: async () => {},
    unsubscribeRoom: async () => {},
    publishRoom () {},
    publishAll () {},
    publishControl: () => false,
    status: () => status,
    close: async () => {}
  })
  const state = { top: 0, gate: Promise.resolve() }
  hub.useHistory(gatedHistory(state))
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  for (let offset = 1; offset <= 2; offset++) {
    state.top = offset
    hub.deliverStored('r', offset, 'E', frame(offset))
  }
  // A gap makes the feed read; the link drops while that read is under way.
  let release: () => void = () => {}
  state.gate = new Promise(resolve => { release = resolve })
  state.top = 4
  hub.deliverStored('r', 4, 'E', frame(4))
  hub.linkLost()
  status = 'reconnecting'
  release()
  await new Promise(resolve => setImmediate(resolve))
  state.top = 6 // stored while the link was down; this instance heard none of it
  state.gate = Promise.resolve()
  status = 'connected'
  hub.linkRestored()
  await new Promise(resolve => setImmediate(resolve))
  t.same(member.got, [1, 2, 3, 4, 5, 6], 'the read during the outage did not end the sync; the return read the rest')
})

t.test('a room that hears more than MAX_PENDING_BYTES during a catch-up read closes its members 4010', async t => {
  const hub = new Hub()
  const state = { top: 0, gate: Promise.resolve() }
  hub.useHistory(gatedHistory(state))
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  let release: () => void = () => {}
  state.gate = new Promise(resolve => { release = resolve })
  state.top = 2
  hub.deliverStored('r', 2, 'E', frame(2)) // a gap: the feed reads (as of 2), and waits
  const big = (offset: number) => Buffer.from(`{"type":"message","room":"r","data":"${'x'.repeat(1024 * 1024)}","offset":${offset},"epoch":"E"}`)
  let bytes = 0
  for (let offset = 3; member.closedWith === null && offset < 100; offset++) {
    t.ok(bytes <= MAX_PENDING_BYTES, 'open while under the bound')
    const f = big(offset)
    bytes += f.length
    hub.deliverStored('r', offset, 'E', f)
  }
  t.equal(member.closedWith, 4010, 'past the bound: resume needed')
  t.ok(bytes > MAX_PENDING_BYTES && bytes < MAX_PENDING_BYTES + 2 * 1024 * 1024, 'closed at the bound')
  release()
  await new Promise(resolve => setTimeout(resolve, 10))
})

t.test('a catch-up that finds another epoch moves the feed there, members stay open', async t => {
  const hub = new Hub()
  let epoch = 'E'
  const history = historyAt(0)
  history.since = async (_room, from) => {
    const position = { epoch, offset: epoch === 'E' ? 1 : 2 }
    if (from === null || from.epoch !== epoch) return { position, recovered: false, messages: [] }
    const messages = []
    for (let o = from.offset + 1; o <= position.offset; o++) messages.push(frame(o))
    return { position, recovered: true, messages }
  }
  hub.useHistory(history)
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  epoch = 'E2' // the history was lost and started again; this instance heard E2/2 only
  hub.deliverStored('r', 2, 'E2', frame(2))
  await new Promise(resolve => setTimeout(resolve, 10))
  t.same(member.got, [1, 2], 'E2 from its offset 1')
  t.equal(member.closedWith, null)
})
