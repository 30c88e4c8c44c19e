/**
 * The typed client's connection over its life: it reconnects and rejoins after a drop, writes an
 * unacknowledged send again, stops for good on close(), with reconnect off, on a disconnect by the
 * server API and on an expired fixed token; and it retries a hanging handshake and a failing token
 * function, and close() does not wait on a server that never answers it.
 */
import { createHash } from 'node:crypto'
import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { WebSocket } from 'ws'
import type { CloseEvent, OpenEvent } from '../../src/client/index.js'
import type { SocketConstructor } from '../../src/client/socket.js'
import { eventually, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'
import { client, next } from './helpers/chat.js'
import { serverSideDropper } from './helpers/drop.js'
import { silentServer } from './helpers/silent-server.js'
import { hungServer } from './helpers/hung-server.js'

/** Answers the upgrade with 101 and then nothing, not even the closing handshake (a hung upstream behind a proxy). */
function upgradeAndHang (socket: Socket): void {
  socket.once('data', request => {
    const key = /sec-websocket-key: (.+)\r\n/i.exec(request.toString())?.[1] ?? ''
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
  })
}

t.test('after the server drops the socket the client reconnects and rejoins its rooms', async t => {
  const { app, url } = await listen(t)
  const drop = serverSideDropper(app)
  const reconnect = { baseMs: 40, maxMs: 200 }
  const chat = client(t, { url: `${url}/ws?tag=chat`, rooms: ['general'], reconnect })
  const other = client(t, { url: `${url}/ws`, rooms: ['general'] })
  const first = await chat.connect()
  await other.connect()
  await chat.join('random')

  const closed = next(chat, 'close')
  const reopened = next(chat, 'open')
  drop('chat')
  const close: CloseEvent = await closed
  t.equal(close.code, 1006, 'abnormal closure')
  t.ok(close.reconnectInMs !== null && close.reconnectInMs >= reconnect.baseMs / 2 && close.reconnectInMs <= reconnect.baseMs,
    `first delay ${close.reconnectInMs} within [base/2, base]`)
  t.equal(chat.state, 'connecting')
  // Sent while disconnected: queued, then written after the rejoin.
  const queued = chat.send('random', 'while away')

  const open: OpenEvent = await reopened
  t.equal(open.reconnected, true)
  t.not(open.welcome.connectionId, first.connectionId, 'a new connection')
  t.same(open.rooms.sort(), ['general', 'random'])
  t.match(await queued, { type: 'ack' })
  const stats = await app.inject(`${PREFIX}/ws/stats`)
  t.same(stats.json().rooms, { general: 2, random: 1 }, 'the old connection is gone, the new one is in both rooms')

  const got = next(chat, 'message')
  await other.send('general', 'welcome back')
  t.match(await got, { room: 'general', data: 'welcome back' })
})

t.test('a request in flight when the socket drops rejects with disconnected; a send is written again', async t => {
  const { app, url } = await listen(t)
  const drop = serverSideDropper(app)
  const chat = client(t, { url: `${url}/ws?tag=chat`, rooms: ['general'], reconnect: { baseMs: 20, maxMs: 20 } })
  await chat.connect()
  const ping = chat.ping()
  const inFlight = chat.send('general', 'not lost')
  drop('chat') // in the same tick: the server never reads the frames
  await t.rejects(ping, { code: 'disconnected' })
  await next(chat, 'open')
  const ack = await inFlight
  t.match(ack, { type: 'ack', offset: 1, epoch: String }, 'stored once, after the reconnect')
  t.equal(chat.positions.get('general')?.offset, 1)
})

t.test('close() rejects pending requests, ends the socket, and stops reconnecting', async t => {
  const server = await silentServer(t)
  let sockets = 0
  // Counts every socket the client opens, to prove no reconnect happens after close().
  const Counting = class extends WebSocket {
    constructor (url: string) {
      super(url)
      sockets++
    }
  } as unknown as SocketConstructor
  const chat = client(t, { url: server.url, WebSocket: Counting, reconnect: { baseMs: 1, maxMs: 1 } })
  await chat.connect()
  const pending = t.rejects(chat.send('general', 'x'), { code: 'closed' })
  const closed = next(chat, 'close')
  await chat.close()
  await pending
  t.match(await closed, { code: 1000, reconnectInMs: null })
  t.equal(chat.state, 'closed')
  await t.rejects(chat.send('general', 'y'), { code: 'closed' })
  t.equal(await server.closed[0], 1000, 'the server saw a clean close')

  // And close() while a reconnect is scheduled cancels it.
  const again = client(t, { url: server.url, WebSocket: Counting, reconnect: { baseMs: 1, maxMs: 1 } })
  await again.connect()
  const dropped = next(again, 'close')
  server.sockets[1].terminate()
  t.match(await dropped, { reconnectInMs: 1 })
  await again.close()
  // Absence cannot be awaited: wait 50 times the largest back-off (Node fires the 1 ms reconnect
  // timer, were it still set, before this later and longer one), then count.
  await sleep(50)
  t.equal(sockets, 2, 'no socket opened after close()')
  t.equal(server.urls.length, 2)
  // The marker: the server still takes sockets, so a reconnect would have been seen.
  const marker = client(t, { url: server.url, WebSocket: Counting, reconnect: false })
  await marker.connect()
  t.equal(sockets, 3, 'the marker\'s socket is the only one opened after close()')
  t.equal(server.urls.length, 3)
})

t.test('with reconnect off, a dropped socket closes the client', async t => {
  const { app, url } = await listen(t)
  const drop = serverSideDropper(app)
  const chat = client(t, { url: `${url}/ws?tag=chat`, reconnect: false })
  await chat.connect()
  const closed = next(chat, 'close')
  drop('chat')
  t.match(await closed, { code: 1006, reconnectInMs: null })
  t.equal(chat.state, 'closed')
  await eventually(async () => (await app.inject(`${PREFIX}/ws/stats`)).json().connections === 0)
})

t.test('connect() with reconnect off rejects when nothing listens', async t => {
  const { app, url } = await listen(t)
  await app.close()
  const chat = client(t, { url: `${url}/ws`, reconnect: false })
  const error = next(chat, 'error')
  await t.rejects(chat.connect(), { code: 'disconnected' })
  t.match(await error, { code: 'socket_error' })
})

t.test('a handshake that hangs is dropped after connectTimeoutMs and retried', async t => {
  // Accepts TCP and never answers the upgrade, as a proxy whose upstream hangs would.
  const { port, attempts } = await hungServer(t)
  const chat = client(t, { url: `ws://127.0.0.1:${port}/ws`, connectTimeoutMs: 100, reconnect: { baseMs: 20, maxMs: 20 } })
  chat.connect().catch(() => {})
  const close = await next(chat, 'close')
  t.equal(close.code, 1006, 'dropped')
  t.ok(close.reconnectInMs !== null, 'and retried')
  await eventually(() => attempts.length >= 2, 3000)
  t.equal(chat.state, 'connecting')
})

t.test('an upgrade answered but never welcomed is dropped at the connect timeout, not after a close handshake', async t => {
  // A graceful close would wait for the peer's close frame (ws: 30 s) before the next attempt.
  const { port, attempts } = await hungServer(t, upgradeAndHang)
  const chat = client(t, { url: `ws://127.0.0.1:${port}/ws`, WebSocket: WebSocket as unknown as SocketConstructor, connectTimeoutMs: 200, reconnect: { baseMs: 20, maxMs: 20 } })
  const started = performance.now()
  chat.connect().catch(() => {})
  const close = await next(chat, 'close')
  const took = performance.now() - started
  t.equal(close.code, 1006, 'dropped')
  t.ok(took < 200 + 5000, `reported ${Math.round(took)} ms after the attempt began (connect timeout 200 ms; a close handshake would wait 30 s)`)
  await eventually(() => attempts.length >= 2, 5000)
  t.pass('and tried again')
})

t.test('close() on a socket whose server never answers the closing handshake settles in seconds, not after ws\'s 30 s', async t => {
  const { port, attempts } = await hungServer(t, upgradeAndHang)
  // A long connect timeout: the socket is still the client's, upgraded and unanswered, at close().
  const chat = client(t, { url: `ws://127.0.0.1:${port}/ws`, WebSocket: WebSocket as unknown as SocketConstructor, connectTimeoutMs: 60_000 })
  chat.connect().catch(() => {})
  await eventually(() => attempts.length === 1)
  await new Promise(resolve => setTimeout(resolve, 100)) // the 101 has reached the client
  const started = performance.now()
  await chat.close()
  const took = performance.now() - started
  t.ok(took < 10_000, `close() settled after ${Math.round(took)} ms (a graceful close alone waits 30 s)`)
  await eventually(() => attempts[0].destroyed || attempts[0].readableEnded, 2000)
  t.pass('and the connection was dropped')
})

t.test('a token function that fails is retried with the reconnect, not the end of the client', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  let calls = 0
  const chat = client(t, {
    url: `${url}/ws`,
    reconnect: { baseMs: 20, maxMs: 20 },
    token: async () => {
      if (++calls === 1) throw new Error('token endpoint offline')
      return sign({ sub: 'ada' })
    }
  })
  const error = next(chat, 'error')
  const close = next(chat, 'close')
  const welcome = await chat.connect()
  t.match(await error, { code: 'socket_error', message: /token endpoint offline/ })
  t.match(await close, { code: 1006, reconnectInMs: Number })
  t.equal(welcome.user, 'ada', 'connected with the second token')
  t.equal(calls, 2)
  t.equal(chat.state, 'open')
})

t.test('a disconnect by the server API ends the client; so does an expired fixed token, but not a token function', async t => {
  const API_KEY = 'client-test-api-key-0123456789abcdef'
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY })
  const kicked = client(t, { url: `${url}/ws`, token: sign({ sub: 'kim' }), reconnect: { baseMs: 20, maxMs: 20 } })
  const welcome = await kicked.connect()
  const kickedClose = next(kicked, 'close')
  const res = await app.inject({ method: 'POST', url: `${PREFIX}/connections/${welcome.connectionId}/disconnect`, headers: { 'x-api-key': API_KEY }, payload: {} })
  t.equal(res.statusCode, 202)
  t.match(await kickedClose, { code: 4003, reconnectInMs: null })
  t.equal(kicked.state, 'closed')

  // A token with 2 to 3 s left: long enough for the upgrade on a loaded machine.
  const fixed = client(t, { url: `${url}/ws`, token: sign({ sub: 'fay' }, { expiresInSec: 2 }), reconnect: { baseMs: 20, maxMs: 20 } })
  await fixed.connect()
  t.match(await next(fixed, 'close'), { code: 4001, reconnectInMs: null }, 'the same expired string would be refused again')
  t.equal(fixed.state, 'closed')

  // A token function whose refresh fails: the server closes with 4001 at the first token's exp,
  // and the client comes back with a fresh token (a fixed string would have ended there).
  let issued = 0
  const renewable = client(t, {
    url: `${url}/ws`,
    token: async () => {
      if (++issued === 2) throw new Error('token endpoint offline')
      return sign({ sub: 'ren' }, { expiresInSec: issued === 1 ? 2 : 3600 })
    },
    reconnect: { baseMs: 20, maxMs: 20 }
  })
  const refreshFailed = next(renewable, 'error')
  const expired = next(renewable, 'close')
  const first = await renewable.connect()
  t.match(await refreshFailed, { code: 'socket_error', message: /token refresh failed: token endpoint offline/ })
  const reopened = next(renewable, 'open')
  t.match(await expired, { code: 4001, reconnectInMs: Number }, 'the token ran out: 4001, and a reconnect is due')
  const back = await Promise.race([reopened, sleep(10_000).then(() => { throw new Error('the client did not come back within 10 s of the 4001') })])
  t.equal(back.reconnected, true)
  t.not(back.welcome.connectionId, first.connectionId, 'a new connection')
  t.equal(back.welcome.user, 'ren')
  t.equal(issued, 3, 'with a third token')
  t.equal(renewable.state, 'open')
})
