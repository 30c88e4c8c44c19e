/**
 * History on one instance without Redis (the memory store): offsets, acks, recovery, the history
 * frame, keys, transient messages, and every malformed field answered `bad_frame` with its id.
 */
import t from 'tap'
import { connect, listen, type Client } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'

async function joined (client: Client, room: string, extra: object = {}) {
  return client.request({ type: 'join', room, ...extra })
}

t.test('room messages carry offsets 1, 2, 3 and the epoch; the ack too, once stored', async (t) => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws`)
  const b = await connect(t, `${url}/ws`)
  const join = await joined(a, 'r')
  t.match(join, { type: 'joined', room: 'r', offset: 0, epoch: String })
  t.notOk('recovered' in join, 'recovered only answers a join with since')
  await joined(b, 'r')
  const acks = []
  for (let i = 0; i < 3; i++) acks.push(await a.request({ type: 'message', room: 'r', data: i }))
  t.same(acks.map(ack => [ack.offset, ack.epoch]), [[1, join.epoch], [2, join.epoch], [3, join.epoch]])
  for (const client of [a, b]) {
    const got = [await client.next('message'), await client.next('message'), await client.next('message')]
    t.same(got.map(m => [m.data, m.offset, m.epoch]), [[0, 1, join.epoch], [1, 2, join.epoch], [2, 3, join.epoch]])
  }
  t.match(await joined(b, 'r'), { offset: 3, epoch: join.epoch }, 'a repeated join tells where the room stands')
})

t.test('join with since replays exactly what was missed, then live messages', async (t) => {
  const { url } = await listen(t)
  const sender = await connect(t, `${url}/ws`)
  await joined(sender, 'r')
  const first = await sender.request({ type: 'message', room: 'r', data: 'one' })
  const delivered = await sender.next('message')
  for (const data of ['two', 'three']) await sender.request({ type: 'message', room: 'r', data })

  const back = await connect(t, `${url}/ws`)
  const answer = await joined(back, 'r', { since: { offset: 1, epoch: first.epoch } })
  t.match(answer, { type: 'joined', offset: 3, epoch: first.epoch, recovered: true })
  const replayed = back.frames.filter(f => f.type === 'message')
  t.same(replayed.map(m => m.data), ['two', 'three'], 'replayed before joined')
  t.ok(back.frames.indexOf(answer) > back.frames.indexOf(replayed[1]), 'joined comes after the replay')
  await sender.request({ type: 'message', room: 'r', data: 'four' })
  t.match(await back.next(f => f.type === 'message' && f.data === 'four'), { offset: 4 })

  const again = await connect(t, `${url}/ws`)
  await joined(again, 'r', { since: { offset: 0, epoch: first.epoch } })
  const all = again.frames.filter(f => f.type === 'message')
  t.same(all[0], delivered, 'each exactly as first delivered')
})

t.test('recovered:false for another epoch, an offset above the top, or a trimmed history', async (t) => {
  const { url } = await listen(t, { HISTORY_SIZE: 3 })
  const sender = await connect(t, `${url}/ws`)
  await joined(sender, 'r')
  let epoch = ''
  for (let i = 1; i <= 5; i++) epoch = (await sender.request({ type: 'message', room: 'r', data: i })).epoch
  const cases: Array<[string, object, boolean]> = [
    ['another epoch', { offset: 4, epoch: 'not-this-one' }, false],
    ['above the top', { offset: 9, epoch }, false],
    ['trimmed (3 is no longer kept)', { offset: 1, epoch }, false],
    ['the oldest kept is the next one', { offset: 2, epoch }, true],
    ['at the top', { offset: 5, epoch }, true]
  ]
  for (const [name, since, recovered] of cases) {
    const client = await connect(t, `${url}/ws`)
    const answer = await joined(client, 'r', { since })
    t.match(answer, { offset: 5, epoch, recovered }, name)
    const replay = client.frames.filter(f => f.type === 'message').map(m => m.data)
    t.same(replay, recovered ? [3, 4, 5].slice((since as { offset: number }).offset - 2) : [], `${name}: replay`)
    await client.close()
  }
})

t.test('the history frame: last L below B, oldest first; limits; rights', async (t) => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 }) // a burst of 100
  const sender = await connect(t, `${url}/ws`)
  await joined(sender, 'r')
  for (let i = 1; i <= 100; i++) sender.send({ type: 'message', room: 'r', data: i })
  await sender.next(f => f.type === 'message' && f.data === 100)
  const reader = await connect(t, `${url}/ws`)
  const page = await reader.request({ type: 'history', room: 'r', limit: 3, before: 100 })
  t.match(page, { type: 'history', room: 'r', offset: 100, epoch: String })
  t.same(page.messages.map((m: any) => m.data), [97, 98, 99])
  t.same((await reader.request({ type: 'history', room: 'r' })).messages.length, 50, 'default limit')
  const big = await reader.request({ type: 'history', room: 'r', limit: 1000 })
  t.equal(big.messages.length, 100, 'cut to 100 (and HISTORY_SIZE keeps 100)')
  t.equal(big.messages[0].offset, 1)
  const empty = await reader.request({ type: 'history', room: 'empty' })
  t.match(empty, { type: 'history', room: 'empty', epoch: String, offset: 0 })
  t.same(empty.messages, [])
  const joinedEmpty = await reader.request({ type: 'join', room: 'empty' })
  t.equal(joinedEmpty.epoch, empty.epoch, 'an empty room keeps the epoch its first message will get')
})

t.test('keys: a resend is acked with the first one and delivered once; transient messages have no offset', async (t) => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws`)
  await joined(a, 'r')
  const first = await a.request({ type: 'message', room: 'r', data: 'x', key: 'k-1' })
  const second = await a.request({ type: 'message', room: 'r', data: 'x', key: 'k-1' })
  t.same([second.messageId, second.offset, second.epoch], [first.messageId, first.offset, first.epoch])
  const typing = await a.request({ type: 'message', room: 'r', data: 'typing', transient: true })
  t.notOk('offset' in typing || 'epoch' in typing, 'no offset on a transient ack')
  const next = await a.request({ type: 'message', room: 'r', data: 'y' })
  t.equal(next.offset, 2, 'neither the resend nor the transient used an offset')
  await a.next(f => f.data === 'y')
  const messages = a.frames.filter(f => f.type === 'message')
  t.same(messages.map(m => m.data), ['x', 'typing', 'y'], 'the resend was not delivered')
  t.match(messages[1], { transient: true })
  t.notOk('offset' in messages[1])
})

t.test('malformed since, limit, before, key: bad_frame with the id echoed, socket open', async (t) => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws`)
  await joined(a, 'r')
  const bad: Array<Record<string, unknown>> = [
    { type: 'join', room: 'r', since: 5 },
    { type: 'join', room: 'r', since: { offset: -1, epoch: 'e' } },
    { type: 'join', room: 'r', since: { offset: 1.5, epoch: 'e' } },
    { type: 'join', room: 'r', since: { offset: 1 } },
    { type: 'join', room: 'r', since: { offset: 1, epoch: 7 } },
    { type: 'history', room: 'r', limit: 0 },
    { type: 'history', room: 'r', limit: '5' },
    { type: 'history', room: 'r', before: -3 },
    { type: 'history', room: 'r', before: 2.5 },
    { type: 'history' },
    { type: 'message', room: 'r', data: 1, key: '' },
    { type: 'message', room: 'r', data: 1, key: 'k'.repeat(65) },
    { type: 'message', room: 'r', data: 1, key: 12 },
    { type: 'message', room: 'r', data: 1, transient: 'yes' }
  ]
  for (const frame of bad) t.match(await a.request(frame), { type: 'error', code: 'bad_frame' }, JSON.stringify(frame))
  t.match(await a.request({ type: 'history', room: 'bad room' }), { code: 'invalid_room' })
  t.match(await a.request({ type: 'ping' }), { type: 'pong' }, 'still open')
})

t.test('HISTORY_SIZE=0: no offsets, history_disabled, a key checked and ignored', async (t) => {
  const { url } = await listen(t, { HISTORY_SIZE: 0 })
  const a = await connect(t, `${url}/ws`)
  const join = await joined(a, 'r', { since: { offset: 0, epoch: 'x' } })
  t.notOk('offset' in join || 'epoch' in join)
  t.equal(join.recovered, false, 'a since cannot be honoured')
  const ack = await a.request({ type: 'message', room: 'r', data: 1, key: 'k' })
  const again = await a.request({ type: 'message', room: 'r', data: 1, key: 'k' })
  t.not(again.messageId, ack.messageId, 'the key is ignored')
  t.notOk('offset' in ack)
  t.match(await a.request({ type: 'message', room: 'r', data: 1, key: '' }), { code: 'bad_frame' })
  t.match(await a.request({ type: 'history', room: 'r' }), { type: 'error', code: 'history_disabled' })
})

t.test('HISTORY_SIZE=0 with auth on: a history frame for a room the token may not join is history_disabled, as over HTTP', async (t) => {
  const { url } = await listen(t, { ...AUTH_CONFIG, HISTORY_SIZE: 0 })
  const a = await connect(t, `${url}/ws?access_token=${sign({ sub: 'ada', rooms: ['mine'] })}`)
  t.match(await a.request({ type: 'history', room: 'theirs' }), { type: 'error', code: 'history_disabled' })
})
