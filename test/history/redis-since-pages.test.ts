/**
 * A `since` replay is read from Redis in pages, never in one reply (a replay of HISTORY_SIZE=100000
 * messages in one script would block Redis): each script call answers at most a page, in messages
 * and in bytes, and the pages together are the whole range, in order, or not recovered at all when
 * the history was lost or trimmed between two pages. Real Redis; the script calls are counted by
 * wrapping the client's command, whose answers are Redis's own.
 */
import t, { type Test } from 'tap'
import { Redis } from 'ioredis'
import { RedisHistory, type RedisHistoryOptions } from '../../src/history/redis-history.js'
import { redisLayout } from '../../src/redis/layout.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

let epochs = 0
let ids = 0

/** A store on the shared Redis, and the frame counts of each since-script reply it got. */
function pagedStore (t: Test, size: number, page: RedisHistoryOptions['replayPage']) {
  const layout = redisLayout(uniquePrefix())
  const client = new Redis(TEST_REDIS_URL)
  t.teardown(() => client.disconnect())
  const store = new RedisHistory({ client, layout, size, ttlSec: 60, newEpoch: () => `e${++epochs}`, replayPage: page })
  const replies: Array<{ frames: number, bytes: number }> = []
  let between: (() => Promise<void>) | null = null
  const scripted = client as unknown as { chatSinceBuffer: (...args: unknown[]) => Promise<Array<Buffer | number>> }
  const original = scripted.chatSinceBuffer.bind(client)
  scripted.chatSinceBuffer = async (...args: unknown[]) => {
    const reply = await original(...args)
    const frames = reply.slice(3) as Buffer[]
    replies.push({ frames: frames.length, bytes: frames.reduce((sum, frame) => sum + frame.length, 0) })
    if (between !== null && replies.length === 1) await between()
    return reply
  }
  return { store, layout, client, replies, betweenPages: (fn: () => Promise<void>) => { between = fn } }
}

/** Stores `count` messages; every message id is new (a known one is a resend, stored once). */
async function fill (store: RedisHistory, count: number, data: (i: number) => string = i => String(i)) {
  let last = { epoch: '', offset: 0 }
  for (let i = 1; i <= count; i++) {
    const stored = await store.append({ room: 'r', messageId: `m${++ids}`, frameHead: `{"type":"message","room":"r","data":"${data(i)}"` })
    if (!stored.stored) throw new Error(`m${ids} was taken for a resend: the fill stored nothing new`)
    last = { epoch: stored.epoch, offset: stored.offset }
  }
  return last
}

const offsets = (frames: Buffer[]): number[] => frames.map(frame => JSON.parse(frame.toString()).offset)
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

t.test('a replay longer than a page is complete and in order; no reply holds more than a page', async t => {
  const { store, replies } = pagedStore(t, 1000, { messages: 10, bytes: 1024 * 1024 })
  const top = await fill(store, 35)
  const result = await store.since('r', { epoch: top.epoch, offset: 3 })
  t.equal(result.recovered, true)
  t.same(result.position, top)
  t.same(offsets(result.messages), range(4, 35), 'offsets 4..35, each once, in order')
  t.ok(replies.length >= 4, `read in ${replies.length} script calls`)
  t.ok(replies.every(reply => reply.frames <= 10), `no reply over 10 messages: ${replies.map(r => r.frames).join(', ')}`)
})

t.test('pages are bounded in bytes too: large messages come a few at a time', async t => {
  const { store, replies } = pagedStore(t, 1000, { messages: 1000, bytes: 100 * 1024 })
  const big = 'x'.repeat(30 * 1024)
  const top = await fill(store, 20, () => big)
  const result = await store.since('r', { epoch: top.epoch, offset: 0 })
  t.equal(result.recovered, true)
  t.same(offsets(result.messages), range(1, 20))
  // A page stops at the first message that takes it past the bound: at most one message over.
  t.ok(replies.every(reply => reply.bytes <= 100 * 1024 + 31 * 1024), `reply bytes ${replies.map(r => r.bytes).join(', ')}`)
  t.ok(replies.length >= 5, `read in ${replies.length} script calls`)
})

t.test('the history lost between two pages: not recovered, nothing replayed', async t => {
  const { store, layout, client, betweenPages } = pagedStore(t, 1000, { messages: 10, bytes: 1024 * 1024 })
  const top = await fill(store, 25)
  betweenPages(async () => { await client.del(layout.meta('r'), layout.log('r')) }) // a flush, an expiry
  const result = await store.since('r', { epoch: top.epoch, offset: 0 })
  t.equal(result.recovered, false)
  t.same(result.messages, [])
})

t.test('the wanted messages trimmed between two pages: not recovered, nothing replayed', async t => {
  const { store, betweenPages } = pagedStore(t, 30, { messages: 10, bytes: 1024 * 1024 })
  const top = await fill(store, 25)
  // 30 more: the stream keeps the last 30, so offsets 11..25 the next page wants are gone.
  betweenPages(async () => { await fill(store, 30) })
  const result = await store.since('r', { epoch: top.epoch, offset: 0 })
  t.equal(result.recovered, false)
  t.same(result.messages, [])
})

t.test('messages stored while the pages are read are not part of the replay (they come live)', async t => {
  const { store, betweenPages } = pagedStore(t, 1000, { messages: 10, bytes: 1024 * 1024 })
  const top = await fill(store, 25)
  betweenPages(async () => { await fill(store, 5) })
  const result = await store.since('r', { epoch: top.epoch, offset: 0 })
  t.equal(result.recovered, true)
  t.same(result.position, top, 'the position is where the first page found the room')
  t.same(offsets(result.messages), range(1, 25))
})
