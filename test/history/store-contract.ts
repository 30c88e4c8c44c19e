/**
 * The history contract every store keeps, run against the memory store and the Redis one: exactly
 * the last `size` messages, recovery iff offset N+1 is kept, keys, pages, epochs.
 */
import type { HistoryStore, StoredDelivery } from '../../src/history/history-store.js'

interface Tap {
  test: (name: string, fn: (t: any) => Promise<void>) => unknown
}

export interface StoreFactory {
  (opts: { size: number, deliver: StoredDelivery }): Promise<HistoryStore>
}

const head = (room: string, messageId: string, data: unknown) =>
  `{"type":"message","room":"${room}","data":${JSON.stringify(data)},"messageId":"${messageId}","ts":1`

let seq = 0
const nextId = () => `m-${++seq}`

export function storeContract (tap: Tap, make: StoreFactory): void {
  tap.test('numbers a room\'s messages 1, 2, 3 in one epoch and delivers each once, in order', async (t) => {
    const delivered: Array<[string, number, string, string]> = []
    const store = await make({ size: 10, deliver: (room, offset, epoch, frame) => delivered.push([room, offset, epoch, frame.toString()]) })
    const first = await store.since('r', null)
    t.equal(first.position.offset, 0, 'an empty room stands at 0')
    const results = []
    for (let i = 0; i < 3; i++) results.push(await store.append({ room: 'r', messageId: nextId(), frameHead: head('r', `x${i}`, i) }))
    t.same(results.map(r => r.offset), [1, 2, 3])
    t.ok(results.every(r => r.stored && r.epoch === first.position.epoch), 'the empty room\'s epoch is the one its first message gets')
    const other = await store.append({ room: 'other', messageId: nextId(), frameHead: head('other', 'y', 0) })
    t.equal(other.offset, 1, 'rooms are numbered apart')
    t.not(other.epoch, first.position.epoch, 'and have their own epochs')
    t.same(JSON.parse(results[1].stored ? (await store.page('r', 1, 3)).messages[0].toString() : '{}'),
      { type: 'message', room: 'r', data: 1, messageId: 'x1', ts: 1, offset: 2, epoch: first.position.epoch },
      'the stored frame is the head closed with offset and epoch')
    await settle(store, delivered, (d) => JSON.parse(d[3]).messageId)
    const epoch = first.position.epoch
    t.same(delivered.map(([room, offset, e, frame]) => [room, offset, e, JSON.parse(frame).messageId]), [
      ['r', 1, epoch, 'x0'], ['r', 2, epoch, 'x1'], ['r', 3, epoch, 'x2'], ['other', 1, other.epoch, 'y'], ['r', 4, epoch, MARKER]
    ], 'each delivered once, in offset order, then the marker (nothing late, nothing twice)')
    return store.close()
  })

  tap.test('keeps exactly the last `size` messages: recovery from N iff N+1 is kept', async (t) => {
    const store = await make({ size: 5, deliver: () => {} })
    let epoch = ''
    for (let i = 1; i <= 12; i++) epoch = (await store.append({ room: 'r', messageId: nextId(), frameHead: head('r', `m${i}`, i) })).epoch
    // Kept: 8..12
    const from7 = await store.since('r', { epoch, offset: 7 })
    t.equal(from7.recovered, true)
    t.same(from7.messages.map(f => JSON.parse(f.toString()).offset), [8, 9, 10, 11, 12])
    const from6 = await store.since('r', { epoch, offset: 6 })
    t.equal(from6.recovered, false, '7 was trimmed')
    t.same(from6.messages, [])
    const atTop = await store.since('r', { epoch, offset: 12 })
    t.equal(atTop.recovered, true, 'at the top: recovered with nothing to replay')
    t.same(atTop.messages, [])
    t.same(atTop.position, { epoch, offset: 12 })
    t.equal((await store.since('r', { epoch, offset: 13 })).recovered, false, 'above the top')
    t.equal((await store.since('r', { epoch: 'another', offset: 11 })).recovered, false, 'another epoch')
    return store.close()
  })

  tap.test('pages: the last `limit` below `before`, oldest first', async (t) => {
    const store = await make({ size: 5, deliver: () => {} })
    for (let i = 1; i <= 8; i++) await store.append({ room: 'r', messageId: nextId(), frameHead: head('r', `m${i}`, i) })
    const offsets = async (limit: number, before: number | null) =>
      (await store.page('r', limit, before)).messages.map(f => JSON.parse(f.toString()).offset)
    t.same(await offsets(50, null), [4, 5, 6, 7, 8])
    t.same(await offsets(2, null), [7, 8])
    t.same(await offsets(2, 7), [5, 6])
    t.same(await offsets(10, 5), [4], 'nothing below the oldest kept')
    t.same(await offsets(10, 1), [])
    t.same(await offsets(10, 100), [4, 5, 6, 7, 8])
    t.same(await offsets(2, 1e15), [7, 8], 'a before far above the top (printed 1e+15 by Lua) is no different')
    t.same(await offsets(2, 9), [7, 8])
    const empty = await store.page('nothing-here', 10, null)
    t.equal(empty.position.offset, 0)
    t.same(empty.messages, [])
    return store.close()
  })

  tap.test('a key makes a resend neither stored nor delivered again; it answers the first', async (t) => {
    const delivered: string[] = []
    const store = await make({ size: 10, deliver: (_room, _offset, _epoch, frame) => { delivered.push(JSON.parse(frame.toString()).messageId) } })
    const first = await store.append({ room: 'r', messageId: 'first', frameHead: head('r', 'first', 'a'), key: 'k1' })
    const again = await store.append({ room: 'r', messageId: 'second', frameHead: head('r', 'second', 'a'), key: 'k1' })
    t.same(again, { stored: false, messageId: 'first', offset: 1, epoch: first.epoch })
    const otherRoom = await store.append({ room: 'q', messageId: 'third', frameHead: head('q', 'third', 'a'), key: 'k1' })
    t.equal(otherRoom.stored, true, 'keys are per room')
    const next = await store.append({ room: 'r', messageId: 'fourth', frameHead: head('r', 'fourth', 'b'), key: 'k2' })
    t.equal(next.offset, 2, 'no offset was used by the duplicate')
    await settle(store, delivered, (id) => id)
    t.same(delivered, ['first', 'third', 'fourth', MARKER], 'the resend was never delivered, not even late')
    return store.close()
  })
}

/** The messageId of the last message a test appends, to know every earlier delivery is in. */
const MARKER = 'marker'

/**
 * Appends a marker to room `r` and waits for its delivery. A store delivers in append order (the
 * Redis one through one pub/sub connection), so anything late or duplicated from before, which
 * the assertions would have missed, has arrived by then.
 */
async function settle<T> (store: HistoryStore, delivered: T[], idOf: (d: T) => string): Promise<void> {
  await store.append({ room: 'r', messageId: nextId(), frameHead: head('r', MARKER, 'end') })
  const deadline = Date.now() + 5000
  while (!delivered.some(d => idOf(d) === MARKER)) {
    if (Date.now() > deadline) throw new Error(`the marker was not delivered within 5 s; delivered: ${JSON.stringify(delivered)}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
