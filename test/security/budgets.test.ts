/**
 * Budgets (contract "Secure by default"): the HTTP rate limit per caller, the join/leave budget
 * per socket, the 1 MiB history answer, and the HTTP time-outs that close stalled connections.
 */
import { once } from 'node:events'
import { connect as tcpConnect } from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { build, connect, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const API_KEY = 'security-budgets-test-key-0123456789abcdef'
const stats = `${PREFIX}/ws/stats`

t.test('HTTP_RATE_LIMIT_PER_MIN: 600 a minute by default, then 429 rate_limited with Retry-After', async t => {
  const app = await build(t)
  for (let i = 0; i < 600; i++) {
    const res = await app.inject(stats)
    if (res.statusCode !== 200) t.fail(`request ${i + 1} answered ${res.statusCode}`)
  }
  const over = await app.inject(stats)
  t.equal(over.statusCode, 429)
  t.match(over.json(), { error: 'rate_limited', message: String })
  t.ok(Number(over.headers['retry-after']) > 0 && Number(over.headers['retry-after']) <= 60, `Retry-After ${over.headers['retry-after']}`)
  // A POST past the budget is refused before its content type or credentials are looked at.
  t.equal((await app.inject({ method: 'POST', url: `${PREFIX}/broadcast`, payload: 'x', headers: { 'content-type': 'text/plain' } })).statusCode, 429)
  for (const path of ['/health', '/ready', '/metrics']) {
    t.equal((await app.inject(PREFIX + path)).statusCode, 200, `${path} is not counted`)
  }
})

t.test('each caller has its own budget: the API key, a verified token\'s sub, else the address', async t => {
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY, HTTP_RATE_LIMIT_PER_MIN: 3 })
  const spend = async (headers: Record<string, string>) => {
    const codes: number[] = []
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: stats, headers })).statusCode)
    return codes
  }
  t.same(await spend(bearer(sign({ sub: 'ada' }))), [200, 200, 200, 429], 'ada')
  t.same(await spend(bearer(sign({ sub: 'ada', rooms: ['x'] }))), [429, 429, 429, 429], 'another token of ada shares her budget')
  t.same(await spend({ 'x-api-key': API_KEY }), [200, 200, 200, 429], 'the API key')
  t.same(await spend(bearer(sign({ sub: 'bob' }))), [200, 200, 200, 429], 'bob')
  // Forged tokens do not open new budgets: they all count against the address.
  t.same(await spend(bearer(sign({ sub: 'mallory1' }, { secret: 'another-secret-0123456789abcdef012' }))), [401, 401, 401, 429])
  t.same(await spend(bearer(sign({ sub: 'mallory2' }, { secret: 'another-secret-0123456789abcdef012' }))), [429, 429, 429, 429])
  // Upgrades are bounded by admission control, not by this budget.
  const socket = await connect(t, `${url}/ws`, bearer(sign({ sub: 'ada' })))
  t.equal(socket.frames[0].user, 'ada', 'ada still opens a socket')
})

t.test('WS_JOIN_RATE_PER_SEC: joins and leaves past the budget are rate_limited; a member sees no more events than it allows', async t => {
  const rate = 2
  const { url } = await listen(t, { WS_JOIN_RATE_PER_SEC: rate, WS_MAX_ROOMS_PER_CONNECTION: 2, WS_RATE_LIMIT_PER_SEC: 0 })
  const watcher = await connect(t, `${url}/ws/lobby`)
  const churner = await connect(t, `${url}/ws`)
  // The budget holds max(2 x rate, rooms per connection) = 4 membership changes.
  const frames = Array.from({ length: 10 }, (_, i) => ({ type: i % 2 === 0 ? 'join' : 'leave', room: 'lobby', id: i }))
  for (const frame of frames) churner.send(frame)
  const replies = await Promise.all(frames.map(frame => churner.next(f => f.id === frame.id)))
  const types = replies.map(r => r.type === 'error' ? r.code : r.type)
  t.same(types.slice(0, 4), ['joined', 'left', 'joined', 'left'], 'the budget first')
  t.ok(types.slice(4).every(type => type === 'rate_limited' || type === 'not_in_room'), `then refusals: ${types.join(',')}`)
  t.ok(types.includes('rate_limited'))
  // Refilled at `rate` a second: after a little over 1/rate s one more join passes.
  await new Promise(resolve => setTimeout(resolve, 1000 / rate + 200))
  t.match(await churner.request({ type: 'join', room: 'lobby' }), { type: 'joined' })
  await watcher.next(f => f.type === 'member_joined' && f.member.connectionId === churner.frames[0].connectionId && watcher.frames.filter(x => x.type === 'member_joined').length === 3)
  t.equal(watcher.frames.filter(f => f.type === 'member_joined' || f.type === 'member_left').length, 5, '4 in the burst, 1 after the refill')
})

t.test('WS_JOIN_RATE_PER_SEC defaults to 10 a second', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const churner = await connect(t, `${url}/ws`)
  const frames = Array.from({ length: 100 }, (_, i) => ({ type: i % 2 === 0 ? 'join' : 'leave', room: 'r', id: i }))
  for (const frame of frames) churner.send(frame)
  const replies = await Promise.all(frames.map(frame => churner.next(f => f.id === frame.id)))
  const passed = replies.filter(r => r.type === 'joined' || r.type === 'left').length
  // 32 in the bucket, plus at most 10 a second for however long the burst took.
  t.ok(passed >= 32 && passed < 60, `${passed} of 100 passed`)
})

t.test('a history answer holds at most 1 MiB of messages, the newest that fit', async t => {
  const { app, url } = await listen(t, { WS_MAX_MESSAGE_BYTES: 70_000, WS_MAX_BUFFERED_BYTES: 8 << 20 })
  const text = 'x'.repeat(60_000)
  for (let i = 1; i <= 20; i++) {
    const res = await app.inject({ method: 'POST', url: `${PREFIX}/rooms/big/messages`, payload: { data: { i, text } } })
    t.equal(res.statusCode, 201)
  }
  const http = await app.inject(`${PREFIX}/rooms/big/history?limit=100`)
  const page = http.json()
  const client = await connect(t, `${url}/ws`)
  const frame = await client.request({ type: 'history', room: 'big', limit: 100 })
  for (const [what, answer] of [['HTTP', page], ['frame', frame]] as const) {
    const offsets = answer.messages.map((m: { offset: number }) => m.offset)
    const bytes = answer.messages.reduce((sum: number, m: unknown) => sum + Buffer.byteLength(JSON.stringify(m)), 0)
    t.ok(bytes <= 1024 * 1024, `${what}: ${bytes} bytes of messages`)
    t.ok(offsets.length >= 15 && offsets.length < 20, `${what}: ${offsets.length} messages`)
    t.equal(offsets.at(-1), 20, `${what}: the newest is in`)
    t.same(offsets, Array.from({ length: offsets.length }, (_, i) => 21 - offsets.length + i), `${what}: the newest, in order`)
    t.equal(answer.offset, 20)
  }
  // `before` pages further back.
  const older = (await app.inject(`${PREFIX}/rooms/big/history?limit=100&before=${page.messages[0].offset}`)).json()
  t.equal(older.messages.at(-1).offset, page.messages[0].offset - 1)
})

/** A raw TCP connection that sends `bytes`, resolved with how long the server took to close it. */
async function closedAfter (port: number, bytes: string, limitMs: number): Promise<number> {
  const socket = tcpConnect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.resume()
  await once(socket, 'connect')
  const started = performance.now()
  if (bytes !== '') socket.write(bytes)
  const timer = setTimeout(() => socket.destroy(), limitMs)
  await once(socket, 'close')
  clearTimeout(timer)
  return performance.now() - started
}

t.test('HTTP time-outs: a stalled request and an idle connection are closed', async t => {
  const app = await buildApp({ timeouts: { idleMs: 600, requestMs: 400, checkEveryMs: 100 } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  const limit = 5000
  const stalled = await closedAfter(port, `GET ${PREFIX}/health HTTP/1.1\r\nHost: x\r\n`, limit)
  t.ok(stalled < limit - 500, `headers never finished: closed after ${Math.round(stalled)} ms`)
  const idle = await closedAfter(port, '', limit)
  t.ok(idle < limit - 500, `nothing sent: closed after ${Math.round(idle)} ms`)

  const defaults = await buildApp()
  t.teardown(() => defaults.close())
  t.equal(defaults.initialConfig.connectionTimeout, 30_000)
  t.equal(defaults.server.requestTimeout, 30_000)
})
