/**
 * The room feed's ordering rules without Redis timing: a history stand-in answers joins from a
 * point the feed has not delivered yet (as a Redis read does when this instance's subscriber lags
 * behind), and the test drives deliveries by hand. The store is a stand-in because the behaviour
 * under test is the hub's, not Redis's (the cluster tests run the same paths on a real Redis).
 */
import t from 'tap'
import type { HistoryStore, Position, SinceResult } from '../../src/history/history-store.js'
import type { Connection } from '../../src/hub/connection.js'
import { Hub } from '../../src/hub/hub.js'

const frame = (offset: number) => Buffer.from(`{"type":"message","room":"r","data":${offset},"offset":${offset},"epoch":"E"}`)

/** A connection as the hub sees it, recording the offsets it is sent. */
function fakeConnection (): Connection & { got: number[], closedWith: number | null } {
  const conn = {
    rooms: new Set<string>(),
    got: [] as number[],
    closedWith: null as number | null,
    send (f: Buffer) { conn.got.push(JSON.parse(f.toString()).offset) },
    sendFramed (f: Buffer) { conn.send(f) },
    sendJson () {},
    close (code: number) { conn.closedWith = code }
  }
  return conn as unknown as Connection & { got: number[], closedWith: number | null }
}

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
    page: async () => { throw new Error('not used') },
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
  hub.useHistory(historyAt(3)) // the history has 1..3; this instance heard only 1 and 4
  hub.deliverStored('r', 1, 'E', frame(1))
  hub.deliverStored('r', 4, 'E', frame(4))
  await new Promise(resolve => setImmediate(resolve))
  hub.deliverStored('r', 5, 'E', frame(5))
  t.same(member.got, [1, 2, 3, 4, 5])
})
