/**
 * The typed client against a real server: requests settled by their replies (ack, error, timeout),
 * events, refused rooms, and the token in the query. Its connection's life (reconnects, closes,
 * tokens that fail or expire) is in connection.test.ts.
 */
import t from 'tap'
import { ChatError } from '../../src/client/index.js'
import { listen } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'
import { client, next } from './helpers/chat.js'
import { silentServer } from './helpers/silent-server.js'

t.test('send resolves with the ack; members get typed message events', async t => {
  const { url } = await listen(t)
  const alice = client(t, { url: `${url}/ws`, rooms: ['general'] })
  const bob = client(t, { url: `${url}/ws`, rooms: ['general'] })
  const welcome = await alice.connect()
  await bob.connect()
  t.equal(alice.state, 'open')
  t.match(welcome, { type: 'welcome', instanceId: String, rooms: [] })

  const got = next(bob, 'message')
  const echo = next(alice, 'message')
  const ack = await alice.send('general', { name: 'alice', text: 'hi' })
  t.match(ack, { type: 'ack', id: Number, messageId: String })
  const message = await got
  t.match(message, {
    type: 'message',
    room: 'general',
    data: { name: 'alice', text: 'hi' },
    messageId: ack.messageId,
    from: { connectionId: welcome.connectionId, user: null }
  })
  t.same(await echo, message, 'the sender gets its own message too')
})

t.test('send to a room not joined rejects with not_in_room; join and leave resolve', async t => {
  const { url } = await listen(t)
  const chat = client(t, { url: `${url}/ws` })
  await chat.connect()
  const err = await chat.send('lobby', 'x').catch(e => e)
  t.ok(err instanceof ChatError)
  t.match(err, { code: 'not_in_room', frame: { type: 'error', code: 'not_in_room', id: Number } })

  t.match(await chat.join('lobby'), { type: 'joined', room: 'lobby', id: 2, offset: 0, epoch: String })
  t.ok(chat.rooms.has('lobby'))
  await chat.send('lobby', 'y')
  t.match(await chat.leave('lobby'), { type: 'left', room: 'lobby' })
  t.notOk(chat.rooms.has('lobby'))
  await t.rejects(chat.leave('lobby'), { code: 'not_in_room' })
  await t.rejects(chat.join('bad room'), { code: 'invalid_room' })
  t.notOk(chat.rooms.has('bad room'), 'a refused room is not kept for rejoining')
  t.match(await chat.ping(), { type: 'pong' })
})

t.test('broadcast reaches every client as a broadcast event', async t => {
  const { url } = await listen(t)
  const a = client(t, { url: `${url}/ws` })
  const b = client(t, { url: `${url}/ws`, rooms: ['x'] })
  await Promise.all([a.connect(), b.connect()])
  const got = next(b, 'broadcast')
  const ack = await a.broadcast({ all: true })
  t.match(await got, { type: 'broadcast', data: { all: true }, messageId: ack.messageId })
})

t.test('a refused initial room is an error event; the client opens without it', async t => {
  const { url } = await listen(t)
  const chat = client(t, { url: `${url}/ws`, rooms: ['ok', 'not ok'] })
  const error = next(chat, 'error')
  const opened = next(chat, 'open')
  await chat.connect()
  t.match(await error, { code: 'invalid_room' })
  t.match(await opened, { rooms: ['ok'], reconnected: false })
})

t.test('requests with no reply reject with timeout; the token goes in the query', async t => {
  const server = await silentServer(t)
  const chat = client(t, { url: server.url, token: 'a.b.c', requestTimeoutMs: 100 })
  await chat.connect()
  t.same(server.urls, ['/ws?access_token=a.b.c'])
  const started = Date.now()
  await t.rejects(chat.send('general', 'x'), { code: 'timeout' })
  t.ok(Date.now() - started >= 90, 'not before the timeout')
  t.match(server.frames, [{ type: 'message', room: 'general', data: 'x', id: 1 }])
})

t.test('with auth on, the token in the query identifies the user; the scope gates broadcast', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  const chat = client(t, { url: `${url}/ws`, token: sign({ sub: 'ada' }), rooms: ['general'] })
  const welcome = await chat.connect()
  t.equal(welcome.user, 'ada')
  const echo = next(chat, 'message')
  await chat.send('general', 'signed')
  t.match(await echo, { from: { user: 'ada' } })
  await t.rejects(chat.broadcast('all'), { code: 'forbidden' })
})
