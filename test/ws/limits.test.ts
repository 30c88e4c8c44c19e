import t from 'tap'
import { once } from 'node:events'
import WebSocket from 'ws'
import { Client, connect, eventually, listen } from '../helper.js'

t.test('a binary frame closes with 1003', async t => {
  const { url } = await listen(t)
  const c = await connect(t, `${url}/ws`)
  c.ws.send(Buffer.from('{"type":"ping"}'), { binary: true })
  t.equal(await c.closed, 1003)
})

t.test('a frame over WS_MAX_MESSAGE_BYTES closes with 1009; one at the limit is fine', async t => {
  const { url } = await listen(t, { WS_MAX_MESSAGE_BYTES: 200 })
  const ok = await connect(t, `${url}/ws/general`)
  const atLimit = JSON.stringify({ type: 'message', room: 'general', data: '' })
  ok.send(JSON.stringify({ type: 'message', room: 'general', data: 'x'.repeat(200 - atLimit.length) }))
  t.match(await ok.next('message'), { type: 'message' })
  const big = await connect(t, `${url}/ws/general`)
  big.send({ type: 'message', room: 'general', data: 'x'.repeat(300) })
  t.equal(await big.closed, 1009)
})

t.test('WS_MAX_ROOMS_PER_CONNECTION: too_many_rooms', async t => {
  const { url } = await listen(t, { WS_MAX_ROOMS_PER_CONNECTION: 2 })
  const c = await connect(t, `${url}/ws/a`)
  t.match(await c.request({ type: 'join', room: 'b' }), { type: 'joined' })
  t.match(await c.request({ type: 'join', room: 'c' }), { type: 'error', code: 'too_many_rooms' })
  t.match(await c.request({ type: 'join', room: 'a' }), { type: 'joined' }, 'rejoining a room is not a new room')
  await c.request({ type: 'leave', room: 'a' })
  t.match(await c.request({ type: 'join', room: 'c' }), { type: 'joined' }, 'leaving frees a place')
})

t.test('the rate limit answers rate_limited with the id, and refills', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 5 })
  const c = await connect(t, `${url}/ws`)
  // the bucket holds 10: frames 1-10 pass, the next ones are refused
  for (let i = 0; i < 14; i++) c.send({ type: 'ping', id: i })
  const replies = []
  for (let i = 0; i < 14; i++) replies.push(await c.next(f => f.id === i))
  t.equal(replies.filter(f => f.type === 'pong').length, 10)
  t.match(replies.slice(10), Array(4).fill({ type: 'error', code: 'rate_limited' }))
  t.equal(c.ws.readyState, WebSocket.OPEN)
  // after 400 ms, two tokens are back
  await new Promise(resolve => setTimeout(resolve, 400))
  t.match(await c.request({ type: 'ping' }), { type: 'pong' })
})

t.test('persistent abuse of the rate limit closes with 1008', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 5 })
  const c = await connect(t, `${url}/ws`)
  for (let i = 0; i < 40; i++) c.send({ type: 'ping' })
  t.equal(await c.closed, 1008)
})

t.test('WS_RATE_LIMIT_PER_SEC=0 turns the limit off', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const c = await connect(t, `${url}/ws`)
  for (let i = 0; i < 300; i++) c.send({ type: 'ping', id: i })
  await c.next(f => f.id === 299)
  t.equal(c.frames.filter(f => f.type === 'pong').length, 300)
})

t.test('the heartbeat terminates a socket that does not answer pings', async t => {
  // A peer has one interval to answer a ping: 1 s, so that the answering client (in this very
  // process) keeps its place through the stalls of a loaded machine.
  const WS_HEARTBEAT_MS = 1000
  const { app, url } = await listen(t, { WS_HEARTBEAT_MS })
  const alive = await connect(t, `${url}/ws/general`)
  let pinged = 0
  alive.ws.on('ping', () => { pinged++ })
  // autoPong off: this client ignores the server's pings, like a vanished peer
  const ws = new WebSocket(`${url}/ws/general`, { autoPong: false })
  const silent = new Client(ws)
  t.teardown(() => ws.terminate())
  await silent.next('welcome')
  const started = Date.now()
  t.equal(await silent.closed, 1006, 'terminated, no close frame')
  // The tick after it connected pings it, the next one terminates it: one to two intervals.
  const took = Date.now() - started
  t.ok(took >= WS_HEARTBEAT_MS - 50 && took < 2 * WS_HEARTBEAT_MS + 2000, `terminated after ${took} ms`)
  await eventually(async () => (await app.inject('/api/chat-api/ws/stats')).json().connections === 1)
  t.ok(pinged >= 1, `the answering client was pinged too (${pinged} times)`)
  t.equal(alive.ws.readyState, WebSocket.OPEN, 'a client that answers pings stays')
})

t.test('a slow consumer is closed with 1013', async t => {
  const { url } = await listen(t, { WS_MAX_BUFFERED_BYTES: 64 * 1024, WS_RATE_LIMIT_PER_SEC: 0 })
  const talker = await connect(t, `${url}/ws/general`)
  const slow = await connect(t, `${url}/ws/general`)
  const fine = await connect(t, `${url}/ws/general`)
  // stop reading: the kernel buffers fill, then the server's send buffer grows
  const raw = (slow.ws as any)._socket
  raw.pause()
  const data = 'x'.repeat(8 * 1024)
  let sent = 0
  const closed = slow.closed
  const pump = setInterval(() => {
    for (let i = 0; i < 20; i++) talker.send({ type: 'message', room: 'general', data })
    sent += 20
  }, 10)
  t.teardown(() => clearInterval(pump))
  // 16 MB is more than loopback's kernel buffers hold, so the server's own buffer must pass the
  // bound; once the server gave up, reading again delivers the close frame after the backlog
  await eventually(() => sent >= 2000, 20000)
  raw.resume()
  t.equal(await closed, 1013)
  clearInterval(pump)
  t.equal(fine.ws.readyState, WebSocket.OPEN, 'other members are unaffected')
  t.match(await fine.request({ type: 'ping' }), { type: 'pong' })
})

t.test('frames sent before the welcome are handled after it', async t => {
  const { url } = await listen(t)
  const ws = new WebSocket(`${url}/ws/general`)
  const c = new Client(ws)
  t.teardown(() => ws.terminate())
  await once(ws, 'open')
  c.send({ type: 'message', room: 'general', data: 'early', id: 1 })
  t.equal((await c.next(() => true)).type, 'welcome', 'welcome is the first frame')
  t.match(await c.next('message'), { data: 'early' })
})
