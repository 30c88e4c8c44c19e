import t from 'tap'
import { connect, eventually, listen } from '../helper.js'

t.test('upgrade succeeds with a welcome frame first', async t => {
  const { url } = await listen(t)
  const c = await connect(t, `${url}/ws`)
  const [welcome] = c.frames
  t.match(welcome, { type: 'welcome', connectionId: String, instanceId: String, rooms: [], user: null })
})

t.test('rooms from the path and the query', async t => {
  const { url } = await listen(t)
  const byPath = await connect(t, `${url}/ws/general`)
  t.same(byPath.frames[0].rooms, ['general'])
  const byQuery = await connect(t, `${url}/ws?room=random`)
  t.same(byQuery.frames[0].rooms, ['random'])
  const both = await connect(t, `${url}/ws/general?room=random`)
  t.same(both.frames[0].rooms, ['general', 'random'])
  const same = await connect(t, `${url}/ws/general?room=general`)
  t.same(same.frames[0].rooms, ['general'])
  // `stats` is the stats endpoint as a path, but a room by query
  const stats = await connect(t, `${url}/ws?room=stats`)
  t.same(stats.frames[0].rooms, ['stats'])
})

t.test('a room message reaches every member, the sender included, and no one else', async t => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws?room=general`)
  const other = await connect(t, `${url}/ws/random`)
  a.send({ type: 'message', room: 'general', data: { text: 'hi' }, id: 7 })
  const ack = await a.next('ack')
  const got = await b.next('message')
  const echo = await a.next('message')
  t.match(got, {
    type: 'message',
    room: 'general',
    data: { text: 'hi' },
    from: { connectionId: a.frames[0].connectionId, user: null },
    messageId: String,
    ts: Number
  })
  t.same(echo, got)
  // History is on by default: the ack also names where the message was stored.
  t.same(ack, { type: 'ack', id: 7, messageId: got.messageId, offset: got.offset, epoch: got.epoch })
  // `other` gets a pong, and nothing before it
  other.send({ type: 'ping' })
  await other.next('pong')
  t.equal(other.frames.filter(f => f.type === 'message').length, 0)
})

t.test('join, then message, then leave', async t => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws`)
  const b = await connect(t, `${url}/ws/lobby`)
  // join then message without waiting for `joined`: frames are handled in order
  a.send({ type: 'join', room: 'lobby', id: 'j' })
  a.send({ type: 'message', room: 'lobby', data: 1, id: 'm' })
  t.match(await a.next(f => f.id === 'j'), { type: 'joined', room: 'lobby', id: 'j', offset: 0, epoch: String })
  t.match(await a.next(f => f.id === 'm'), { type: 'ack', id: 'm' })
  t.match(await b.next('message'), { data: 1 })
  t.same(await a.request({ type: 'join', room: 'lobby' }).then(f => f.type), 'joined', 'join is idempotent')
  const left = await a.request({ type: 'leave', room: 'lobby' })
  t.match(left, { type: 'left', room: 'lobby' })
  t.match(await a.request({ type: 'leave', room: 'lobby' }), { type: 'error', code: 'not_in_room' })
  t.match(await a.request({ type: 'message', room: 'lobby', data: 2 }), { type: 'error', code: 'not_in_room' })
})

t.test('a global broadcast reaches every client', async t => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws`)
  const b = await connect(t, `${url}/ws/general`)
  const c = await connect(t, `${url}/ws/random`)
  const ack = await a.request({ type: 'broadcast', data: 'all' })
  for (const client of [a, b, c]) {
    t.match(await client.next('broadcast'), { type: 'broadcast', data: 'all', messageId: ack.messageId, from: { user: null } })
  }
})

t.test('stats count connections and rooms, and drop on disconnect', async t => {
  const { app, url } = await listen(t)
  const stats = async () => (await app.inject('/api/chat-api/ws/stats')).json()
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws/general?room=random`)
  await connect(t, `${url}/ws`)
  t.match(await stats(), { connections: 3, rooms: { general: 2, random: 1 } })
  await b.close()
  await eventually(async () => (await stats()).connections === 2)
  t.same((await stats()).rooms, { general: 1 })
  a.ws.terminate() // an unclean disconnect is counted too
  await eventually(async () => (await stats()).connections === 1)
  t.same((await stats()).rooms, {}, 'a room with no member is not listed')
})

t.test('messages of one sender arrive in order', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws/general`)
  const count = 500
  for (let i = 0; i < count; i++) a.send({ type: 'message', room: 'general', data: i })
  await b.next(f => f.type === 'message' && f.data === count - 1)
  const seen = b.frames.filter(f => f.type === 'message').map(f => f.data)
  t.same(seen, Array.from({ length: count }, (_, i) => i))
})
