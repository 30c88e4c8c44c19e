/**
 * The ordering guarantees of history across two instances on one Redis: every member on every
 * instance gets a room's messages as 1, 2, 3, ... of one epoch, whoever sent them and wherever;
 * a rejoin with `since` racing live traffic misses nothing and repeats nothing.
 */
import { test } from 'tap'
import { connect, type Client } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

/** The room's messages a client received, as offsets, once it has `count` of them. */
async function offsetsOf (client: Client, room: string, count: number, timeoutMs = 15000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs
  const mine = () => client.frames.filter(f => f.type === 'message' && f.room === room)
  while (mine().length < count && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
  return mine().map(f => f.offset)
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('concurrent senders on two instances: every member gets 1..N, in order, once', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const senders = [await connect(t, `${a.url}/ws/r`), await connect(t, `${a.url}/ws/r`), await connect(t, `${b.url}/ws/r`), await connect(t, `${b.url}/ws/r`)]
  const observers = [await connect(t, `${a.url}/ws/r`), await connect(t, `${b.url}/ws/r`)]
  const perSender = 150
  // All at once, no waiting for acks: the four streams interleave at Redis.
  senders.forEach((sender, s) => {
    for (let i = 0; i < perSender; i++) sender.send({ type: 'message', room: 'r', data: { s, i } })
  })
  const total = senders.length * perSender
  for (const client of [...observers, ...senders]) {
    t.same(await offsetsOf(client, 'r', total), range(1, total), 'contiguous, in offset order, no duplicate')
  }
  const first = observers[0].frames.filter(f => f.type === 'message')
  const second = observers[1].frames.filter(f => f.type === 'message')
  t.same(first.map(f => f.messageId), second.map(f => f.messageId), 'the same sequence on both instances')
  t.equal(new Set(first.map(f => f.epoch)).size, 1, 'one epoch')
  for (let s = 0; s < senders.length; s++) {
    const own = first.filter(f => f.data.s === s).map(f => f.data.i)
    t.same(own, range(0, perSender - 1), `sender ${s}'s messages in the order sent`)
  }
})

test('a rejoin with since, on the other instance, while both keep sending: nothing missed, nothing twice', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const senderA = await connect(t, `${a.url}/ws/r`)
  const senderB = await connect(t, `${b.url}/ws/r`)
  const phone = await connect(t, `${b.url}/ws/r`)

  const state = { sending: true }
  let sent = 0
  const pump = async (sender: Client, tag: string) => {
    while (state.sending) {
      sender.send({ type: 'message', room: 'r', data: { tag, n: sent++ } })
      await new Promise(resolve => setTimeout(resolve, 2))
    }
  }
  const pumps = [pump(senderA, 'a'), pump(senderB, 'b')]

  // The phone drops after a few messages...
  await offsetsOf(phone, 'r', 20)
  phone.ws.terminate()
  const seen = phone.frames.filter(f => f.type === 'message')
  const last = seen[seen.length - 1]
  // ... and comes back on the other instance while both senders go on.
  await new Promise(resolve => setTimeout(resolve, 100))
  const back = await connect(t, `${a.url}/ws`)
  const answer = await back.request({ type: 'join', room: 'r', since: { offset: last.offset, epoch: last.epoch } })
  t.match(answer, { recovered: true, epoch: last.epoch })
  await new Promise(resolve => setTimeout(resolve, 300))
  state.sending = false
  await Promise.all(pumps)
  const top = (await senderA.request({ type: 'message', room: 'r', data: 'last' })).offset

  const received = await offsetsOf(back, 'r', top - last.offset)
  t.same(received, range(last.offset + 1, top), 'replay then live: every offset after the last seen, once, in order')
  const joinedAt = back.frames.indexOf(answer)
  const replayed = back.frames.slice(0, joinedAt).filter(f => f.type === 'message')
  t.ok(replayed.length > 0, `${replayed.length} replayed before joined`)
  t.equal(replayed[replayed.length - 1].offset, answer.offset, 'the replay ends at joined\'s offset')
})

test('many rejoins racing a burst: each gets exactly the offsets after its since', async (t) => {
  const prefix = uniquePrefix()
  // The whole burst stays in the history, so every since is recoverable.
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, { HISTORY_SIZE: 1000 })
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, { HISTORY_SIZE: 1000 })
  const sender = await connect(t, `${a.url}/ws/r`)
  const seed = await sender.request({ type: 'message', room: 'r', data: 'seed' })
  const total = 300
  for (let i = 0; i < total; i++) sender.send({ type: 'message', room: 'r', data: i })
  // Joins land at every moment of the burst, each from a different point of the history.
  const joiners = await Promise.all(range(0, 11).map(async (i) => {
    await new Promise(resolve => setTimeout(resolve, i * 5))
    const client = await connect(t, `${(i % 2 === 0 ? a : b).url}/ws`)
    const since = { offset: 1 + i * 10, epoch: seed.epoch }
    const answer = await client.request({ type: 'join', room: 'r', since })
    return { client, since, answer }
  }))
  for (const { client, since, answer } of joiners) {
    t.equal(answer.recovered, true)
    t.same(await offsetsOf(client, 'r', total + 1 - since.offset), range(since.offset + 1, total + 1), `since ${since.offset}`)
  }
})

test('an idempotent resend through the other instance is acked as the first and delivered once', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)
  const onA = await connect(t, `${a.url}/ws/r`)
  const onB = await connect(t, `${b.url}/ws/r`)
  const first = await onA.request({ type: 'message', room: 'r', data: 'once', key: 'the-key' })
  const resent = await onB.request({ type: 'message', room: 'r', data: 'once', key: 'the-key' })
  t.same([resent.messageId, resent.offset, resent.epoch], [first.messageId, first.offset, first.epoch])
  const after = await onB.request({ type: 'message', room: 'r', data: 'next' })
  t.equal(after.offset, first.offset + 1)
  for (const client of [onA, onB]) {
    await client.next(f => f.type === 'message' && f.data === 'next')
    t.same(client.frames.filter(f => f.type === 'message').map(f => f.data), ['once', 'next'])
  }
})
