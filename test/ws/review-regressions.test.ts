// Cases found by an outside review against the wire contract (docs/protocol.md): each once broke the contract.
import t from 'tap'
import { once } from 'node:events'
import WebSocket from 'ws'
import { Client, connect, eventually, listen } from '../helper.js'
import { slowProxy, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

t.test('deeply nested data is refused with an error frame; the process and others stay', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const c = await connect(t, `${url}/ws/deep`)
  const other = await connect(t, `${url}/ws/deep`)
  const depth = 20000 // 40 KB: inside the frame limit, far past what JSON.stringify's stack takes
  const data = '['.repeat(depth) + ']'.repeat(depth)
  c.send(`{"type":"message","room":"deep","data":${data},"id":1}`)
  t.match(await c.next('error'), { code: 'bad_frame', id: 1, message: /nest/ })
  c.send(`{"type":"broadcast","data":${data},"id":2}`)
  t.match(await c.next('error'), { code: 'bad_frame', id: 2 })
  t.match(await other.request({ type: 'message', room: 'deep', data: 'fine' }), { type: 'ack' })
  t.match(await c.request({ type: 'ping' }), { type: 'pong' }, 'the sender stays connected')
})

t.test('an id that JSON holds but a double cannot (1e400) is refused without an echo', async t => {
  const { url } = await listen(t)
  const c = await connect(t, `${url}/ws`)
  c.send('{"type":"ping","id":1e400}')
  const reply = await c.next('error')
  t.match(reply, { code: 'bad_frame', message: /id must be a string or a finite number/ })
  t.notOk('id' in reply)
})

t.test('a room named __proto__ is counted in stats like any other', async t => {
  const { app, url } = await listen(t)
  await connect(t, `${url}/ws/__proto__`)
  await connect(t, `${url}/ws?room=__proto__`)
  await connect(t, `${url}/ws/constructor`)
  const stats = (await app.inject('/api/chat-api/ws/stats')).json()
  // compared as entries: in an object literal, `__proto__` would set the prototype
  t.same(Object.entries(stats.rooms).sort(), [['__proto__', 2], ['constructor', 1]])
})

t.test('a slow consumer leaves the counts as soon as it is closed with 1013', async t => {
  const { app, url } = await listen(t, { WS_MAX_BUFFERED_BYTES: 64 * 1024, WS_RATE_LIMIT_PER_SEC: 0 })
  const stats = async () => (await app.inject('/api/chat-api/ws/stats')).json()
  const talker = await connect(t, `${url}/ws/general`)
  const slow = await connect(t, `${url}/ws/general`)
  ;(slow.ws as any)._socket.pause() // never reads again in this test
  const data = 'x'.repeat(8 * 1024)
  const pump = setInterval(() => {
    for (let i = 0; i < 20; i++) talker.send({ type: 'message', room: 'general', data })
  }, 10)
  t.teardown(() => clearInterval(pump))
  await eventually(async () => (await stats()).connections === 1, 20000)
  clearInterval(pump)
  t.same((await stats()).rooms, { general: 1 }, 'its room membership is gone too')
})

t.test('frames sent right behind a join that waits on Redis are all handled (rate limit off)', async t => {
  // a proxy that adds 50 ms to every Redis reply keeps the join pending while the frames arrive
  const redis = await slowProxy(t, TEST_REDIS_URL, 50)
  const { url } = await listen(t, { REDIS_URL: redis, REDIS_CHANNEL_PREFIX: uniquePrefix(), WS_RATE_LIMIT_PER_SEC: 0 })
  const ws = new WebSocket(`${url}/ws`)
  const c = new Client(ws)
  t.teardown(() => ws.terminate())
  await c.next('welcome')
  const count = 3000
  const raw = (ws as any)._socket
  raw.cork()
  ws.send(JSON.stringify({ type: 'join', room: 'f', id: 'j' }))
  for (let i = 0; i < count; i++) ws.send(JSON.stringify({ type: 'message', room: 'f', data: i }))
  raw.uncork()
  t.match(await c.next(f => f.id === 'j'), { type: 'joined' })
  await c.next(f => f.type === 'message' && f.data === count - 1, 20000)
  t.equal(c.frames.filter(f => f.type === 'message').length, count)
  t.equal(c.closeCode, null, 'still open')
})

t.test('a join storm without waiting for replies is served in order, not cut off', async t => {
  const redis = await slowProxy(t, TEST_REDIS_URL, 5)
  const { url } = await listen(t, { REDIS_URL: redis, REDIS_CHANNEL_PREFIX: uniquePrefix(), WS_RATE_LIMIT_PER_SEC: 0, WS_JOIN_RATE_PER_SEC: 0, WS_MAX_ROOMS_PER_CONNECTION: 5000 })
  const c = await connect(t, `${url}/ws`)
  // 1 200 frames held behind the first join: more than the 1 024 that once cut a socket off. Each
  // join waits on Redis in turn (5 ms a reply here), so more rooms only make the test longer.
  const rooms = 600
  for (let i = 0; i < rooms; i++) {
    c.send({ type: 'join', room: `r${i}`, id: i })
    c.send({ type: 'leave', room: `r${i}` })
  }
  await c.next(f => f.type === 'left' && f.room === `r${rooms - 1}`, 60000)
  const joined = c.frames.filter(f => f.type === 'joined').map(f => f.id)
  t.same(joined, Array.from({ length: rooms }, (_, i) => i), 'every join answered, in order')
  t.equal(c.closeCode, null)
})

t.test('an upgrade with a broken %-encoding is refused as JSON and its socket closed', async t => {
  const { url } = await listen(t)
  const { port } = new URL(url)
  const { connect: tcp } = await import('node:net')
  for (const path of ['/api/chat-api/ws/%E0%A4%A', '/%E0']) {
    const socket = tcp(Number(port), '127.0.0.1')
    await once(socket, 'connect')
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')
    let response = ''
    socket.on('data', (chunk) => { response += chunk })
    await once(socket, 'close') // the server closes it
    t.match(response, /^HTTP\/1.1 400/, path)
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4))
    t.match(body, { error: path.includes('/ws/') ? 'invalid_room' : 'bad_request', message: String }, path)
  }
})
