/**
 * Read state across two instances on one Redis: exact unread counts under concurrent senders,
 * cursors that never move back under racing `read` frames, an epoch change, receipts from the
 * other instance, and the user's status from either instance.
 */
import t from 'tap'
import type { Client } from '../helper.js'
import { eventually, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'
import { adminClient, clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { randomName, sendMany, userSocket } from './helpers.js'

async function twoApps (t: Parameters<typeof clusterApp>[0]) {
  const prefix = uniquePrefix()
  const config = { ...AUTH_CONFIG, HISTORY_SIZE: 1000 }
  const one = await clusterApp(t, TEST_REDIS_URL, prefix, config)
  const two = await clusterApp(t, TEST_REDIS_URL, prefix, config)
  return { one, two, prefix }
}

/** Waits until `client` has received `count` messages of `room`; returns their offsets in order. */
async function offsetsOf (client: Client, room: string, count: number): Promise<number[]> {
  await eventually(() => client.frames.filter(f => f.type === 'message' && f.room === room).length >= count)
  return client.frames.filter(f => f.type === 'message' && f.room === room).map(f => f.offset)
}

t.test('unread is exact under concurrent senders on two instances, with a reader marking mid-stream', async t => {
  const { one, two } = await twoApps(t)
  const room = randomName('exact')
  const reader = await userSocket(t, one.url, 'reader', [room])
  const senderA = await userSocket(t, one.url, 'sender-a', [room])
  const senderB = await userSocket(t, two.url, 'sender-b', [room])

  // The reader marks what it has received once it is part-way through the stream.
  let marked = -1
  const marking = (async () => {
    await eventually(() => reader.frames.filter(f => f.type === 'message').length >= 150)
    const received = reader.frames.filter(f => f.type === 'message')
    const upTo = received[received.length - 1].offset
    const reply = await reader.request({ type: 'read', room, offset: upTo })
    marked = reply.offset
  })()
  const [lastA, lastB] = await Promise.all([sendMany(senderA, room, 200), sendMany(senderB, room, 200)])
  await marking
  const offsets = await offsetsOf(reader, room, 400)
  t.same(offsets, Array.from({ length: 400 }, (_, i) => i + 1), 'no gap, no repeat')

  const handCount = offsets.filter(o => o > marked).length
  const unread = await reader.request({ type: 'unread', rooms: [room] })
  t.same(unread.rooms, [{ room, epoch: lastA.epoch, offset: 400, readOffset: marked, unread: handCount }])
  t.ok(marked >= 150 && marked < 400, `marked mid-stream (at ${marked})`)

  // Each sender has read up to its own last message: what the other sent after it is unread.
  const byA = lastA.offset as number
  const byB = lastB.offset as number
  for (const [sender, own, other] of [[senderA, byA, 'sender-b'], [senderB, byB, 'sender-a']] as const) {
    const afterOwn = reader.frames.filter(f => f.type === 'message' && f.offset > own && f.from.user === other).length
    await eventually(async () => (await sender.request({ type: 'unread', rooms: [room] })).rooms[0].readOffset === own)
    t.match((await sender.request({ type: 'unread' })).rooms, [{ room, readOffset: own, unread: afterOwn }])
  }
})

t.test('racing read frames from two sockets of one user never move the cursor back', async t => {
  const { one, two } = await twoApps(t)
  const room = randomName('race')
  const watcher = await userSocket(t, one.url, 'watcher', [room])
  const first = await userSocket(t, one.url, 'racer', [room])
  const second = await userSocket(t, two.url, 'racer', [room])
  await sendMany(watcher, room, 60)
  const shuffled = () => Array.from({ length: 60 }, (_, i) => i + 1).sort(() => Math.random() - 0.5)
  const replies = await Promise.all([
    ...shuffled().map(offset => first.request({ type: 'read', room, offset }).then(r => [offset, r.offset] as const)),
    ...shuffled().map(offset => second.request({ type: 'read', room, offset }).then(r => [offset, r.offset] as const))
  ])
  t.ok(replies.every(([asked, got]) => got >= asked), 'each answer is at or past what was asked')
  const final = await first.request({ type: 'unread', rooms: [room] })
  t.match(final.rooms, [{ readOffset: 60, unread: 0 }])
  // The receipts, in the order the room got them, only go forward; the one of 60 is among them.
  await watcher.next(f => f.type === 'read_receipt' && f.offset === 60)
  const receipts = watcher.frames.filter(f => f.type === 'read_receipt').map(f => f.offset)
  t.ok(receipts.every((o, i) => i === 0 || o > receipts[i - 1]), `receipts strictly increase: ${receipts.join(',')}`)
  // The user's other socket (on the other instance) hears of the reads too.
  await second.next(f => f.type === 'read_receipt' && f.user === 'racer' && f.offset === 60)
})

t.test('an epoch change (history lost) makes the old cursor count as 0', async t => {
  const { one, two, prefix } = await twoApps(t)
  const admin = adminClient(t)
  const room = randomName('epoch')
  const alice = await userSocket(t, one.url, 'alice', [room])
  const bob = await userSocket(t, two.url, 'bob', [room])
  const last = await sendMany(alice, room, 5)
  await bob.request({ type: 'read', room, offset: 5 })
  t.match((await bob.request({ type: 'unread' })).rooms, [{ epoch: last.epoch, offset: 5, readOffset: 5, unread: 0 }])

  // As if the history expired: its keys are gone.
  await admin.del(`${prefix}:{${room}}:meta`, `${prefix}:{${room}}:log`)
  const after = (await bob.request({ type: 'unread' })).rooms[0]
  t.not(after.epoch, last.epoch, 'a new epoch')
  t.match(after, { offset: 0, readOffset: 0, unread: 0 })
  const next = await sendMany(alice, room, 3)
  t.equal(next.epoch, after.epoch, 'the epoch unread named is the one the next message got')
  t.match((await bob.request({ type: 'unread', rooms: [room] })).rooms, [{ epoch: next.epoch, offset: 3, readOffset: 0, unread: 3 }])
  // HTTP says the same.
  const res = await one.app.inject({ url: `${PREFIX}/users/bob/read-state`, headers: bearer(sign({ sub: 'bob' })) })
  t.match(res.json().rooms, [{ room, unread: 3 }])
})

t.test('receipts reach the other instance; status counts the sockets of every instance', async t => {
  const { one, two } = await twoApps(t)
  const room = randomName('receipt')
  const near = await userSocket(t, one.url, 'near', [room])
  const far = await userSocket(t, two.url, 'far', [room])
  await sendMany(near, room, 2)
  await far.request({ type: 'read', room, offset: 2 })
  t.match(await near.next('read_receipt'), { room, user: 'far', offset: 2 })

  const status = async () => (await two.app.inject({ url: `${PREFIX}/users/multi/status`, headers: bearer(sign({ sub: 'x' })) })).json()
  t.same(await status(), { user: 'multi', online: false, connections: 0, lastSeen: null })
  const a = await userSocket(t, one.url, 'multi')
  const b = await userSocket(t, two.url, 'multi')
  await eventually(async () => (await status()).connections === 2)
  await a.close()
  await eventually(async () => (await status()).connections === 1)
  t.equal((await status()).lastSeen, null, 'one socket still open: not gone yet')
  const before = Date.now()
  await b.close()
  await eventually(async () => (await status()).online === false)
  const gone = await status()
  t.ok(gone.lastSeen >= before - 50 && gone.lastSeen <= Date.now() + 50, 'lastSeen: when the last socket closed')
})
