import { test } from 'tap'
import { connect, eventually, PREFIX, type Client } from '../helper.js'
import { adminClient, channelsUnder, clusterApp, numsub, slowProxy, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

/** Frames of `type` whose data.tag is `tag`. */
function count (client: Client, type: string, tag: string): number {
  return client.frames.filter(f => f.type === type && f.data?.tag === tag).length
}

/**
 * Waits until every earlier publish has reached every client. Redis delivers in the order it
 * received the PUBLISHes on each subscriber connection, so a marker from B that follows what A
 * published, then one from A, arrive behind anything either instance sent before.
 */
async function barrier (fromA: Client, fromB: Client, room: string, clients: Client[]): Promise<void> {
  for (const [sender, tag] of [[fromB, 'barrier-b'], [fromA, 'barrier-a']] as const) {
    sender.send({ type: 'message', room, data: { tag } })
    await Promise.all(clients.map(c => c.next(f => f.type === 'message' && f.data?.tag === tag)))
  }
}

test('two instances on one Redis share rooms and broadcasts', async (t) => {
  const prefix = uniquePrefix()
  const admin = adminClient(t)
  const a = await clusterApp(t, TEST_REDIS_URL, prefix)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix)

  const onA = await connect(t, `${a.url}/ws/general`)
  const onB1 = await connect(t, `${b.url}/ws/general`)
  const onB2 = await connect(t, `${b.url}/ws/general`)
  const lobbyB = await connect(t, `${b.url}/ws`)
  const members = [onA, onB1, onB2]

  for (const app of [a, b]) {
    const stats = await app.app.inject(`${PREFIX}/ws/stats`)
    t.equal(stats.json().redis, 'connected', 'stats say connected')
    const ready = await app.app.inject(`${PREFIX}/ready`)
    t.equal(ready.statusCode, 200, '/ready is 200 while Redis is connected')
  }

  await t.test('a room message from A reaches members on A and B exactly once each', async (t) => {
    const ack = await onA.request({ type: 'message', room: 'general', data: { tag: 'hello' } })
    t.equal(ack.type, 'ack')
    const got = await Promise.all(members.map(c => c.next(f => f.type === 'message' && f.data?.tag === 'hello')))
    for (const frame of got) {
      t.equal(frame.messageId, ack.messageId, 'the same message everywhere')
      t.equal(frame.room, 'general')
    }
    await barrier(onA, onB1, 'general', members)
    t.same(members.map(c => count(c, 'message', 'hello')), [1, 1, 1], 'no member got it twice')
    t.equal(lobbyB.frames.filter(f => f.type === 'message').length, 0, 'a socket outside the room got nothing')
  })

  await t.test('a global broadcast reaches every socket of both instances once', async (t) => {
    await onB1.request({ type: 'broadcast', data: { tag: 'to-all' } })
    const everyone = [...members, lobbyB]
    await Promise.all(everyone.map(c => c.next(f => f.type === 'broadcast' && f.data?.tag === 'to-all')))
    await barrier(onA, onB1, 'general', members)
    t.same(everyone.map(c => count(c, 'broadcast', 'to-all')), [1, 1, 1, 1])
  })

  await t.test('one sender\'s messages reach the other instance in the order sent', async (t) => {
    const total = 300
    for (let seq = 0; seq < total; seq++) onA.send({ type: 'message', room: 'general', data: { tag: 'seq', seq } })
    await onB1.next(f => f.type === 'message' && f.data?.seq === total - 1)
    const seen = onB1.frames.filter(f => f.type === 'message' && f.data?.tag === 'seq').map(f => f.data.seq)
    t.same(seen, Array.from({ length: total }, (_, i) => i))
  })

  await t.test('an instance subscribes a room only while it has a member in it', async (t) => {
    const room = `${prefix}:room:{only-a}`
    const soloA = await connect(t, `${a.url}/ws/only-a`)
    t.equal(await numsub(admin, room), 1, 'only A listens to the room')
    t.same(await channelsUnder(admin, prefix), [`${prefix}:all`, `${prefix}:control`, `${prefix}:room:{general}`, room])
    t.equal(await numsub(admin, `${prefix}:all`), 2, 'both listen to global broadcasts')

    t.equal((await lobbyB.request({ type: 'join', room: 'only-a' })).type, 'joined')
    t.equal(await numsub(admin, room), 2, 'B subscribed before answering joined')
    t.equal((await lobbyB.request({ type: 'leave', room: 'only-a' })).type, 'left')
    await eventually(async () => await numsub(admin, room) === 1)

    await soloA.close()
    await eventually(async () => await numsub(admin, room) === 0)
    t.same(await channelsUnder(admin, prefix), [`${prefix}:all`, `${prefix}:control`, `${prefix}:room:{general}`])
  })

  await t.test('rapid join/leave on one instance settles on the last word', async (t) => {
    const room = 'flappy'
    const channel = `${prefix}:room:{${room}}`
    const sender = await connect(t, `${a.url}/ws/${room}`)
    const flapper = await connect(t, `${b.url}/ws`)
    for (let i = 0; i < 20; i++) {
      flapper.send({ type: 'join', room })
      flapper.send({ type: 'leave', room })
    }
    t.equal((await flapper.request({ type: 'join', room })).type, 'joined')
    t.equal(await numsub(admin, channel), 2, 'ends subscribed')
    sender.send({ type: 'message', room, data: { tag: 'after-flapping' } })
    t.equal((await flapper.next('message')).data.tag, 'after-flapping')

    for (let i = 0; i < 20; i++) {
      flapper.send({ type: 'leave', room })
      flapper.send({ type: 'join', room })
    }
    t.equal((await flapper.request({ type: 'leave', room })).type, 'left')
    await eventually(async () => await numsub(admin, channel) === 1)
  })

  // C reaches Redis through a slow link: answering `joined` (or `welcome`) before its SUBSCRIBE is
  // in place would lose A's message, which reaches Redis first.
  const c = await clusterApp(t, await slowProxy(t, TEST_REDIS_URL, 50), prefix)

  await t.test('a join answered `joined` receives a message sent right after from another instance', async (t) => {
    for (let i = 0; i < 3; i++) {
      const room = `late-${i}`
      const sender = await connect(t, `${a.url}/ws/${room}`)
      const joiner = await connect(t, `${c.url}/ws`)
      t.equal((await joiner.request({ type: 'join', room })).type, 'joined')
      sender.send({ type: 'message', room, data: { tag: 'right-after' } })
      t.equal((await joiner.next('message')).data.tag, 'right-after')
    }
  })

  await t.test('a welcome is sent once the URL\'s rooms are subscribed', async (t) => {
    const sender = await connect(t, `${a.url}/ws/at-upgrade`)
    const joiner = await connect(t, `${c.url}/ws/at-upgrade?room=second`)
    t.same(joiner.frames[0].rooms.sort(), ['at-upgrade', 'second'])
    sender.send({ type: 'message', room: 'at-upgrade', data: { tag: 'after-welcome' } })
    t.equal((await joiner.next('message')).data.tag, 'after-welcome')
  })
})
