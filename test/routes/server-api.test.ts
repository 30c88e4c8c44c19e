/**
 * The server API on one instance: who may call it (API key, chat:publish token, open), what each
 * route answers, and each refusal: 401 with WWW-Authenticate, 403, 400 bad room and body, 413.
 */
import { Writable } from 'node:stream'
import t from 'tap'
import { MAX_DATA_DEPTH } from '../../src/serialise-data.js'
import { buildApp } from '../../src/app.js'
import { Hub } from '../../src/hub/hub.js'
import { build, connect, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const API_KEY = 'server-api-test-key-0123456789abcdef'
const post = (url: string, body?: unknown, headers: Record<string, string> = {}): { method: 'POST', url: string, headers: Record<string, string>, payload?: object | string } => ({
  method: 'POST' as const, url: PREFIX + url, headers, ...(body === undefined ? {} : { payload: body as object })
})

t.test('with an API key: the right key publishes to the room\'s sockets as user null', async t => {
  const { app, url } = await listen(t, { API_KEY })
  const member = await connect(t, `${url}/ws/general`)
  const res = await app.inject(post('/rooms/general/messages', { data: { text: 'from the backend' } }, { 'x-api-key': API_KEY }))
  t.equal(res.statusCode, 201)
  const { messageId } = res.json()
  t.match(messageId, /\S+/)
  t.match(await member.next('message'), {
    type: 'message', room: 'general', data: { text: 'from the backend' }, from: { connectionId: null, user: null }, messageId, ts: Number
  })

  const broadcast = await app.inject(post('/broadcast', { data: 'everyone' }, { 'x-api-key': API_KEY }))
  t.equal(broadcast.statusCode, 201)
  t.match(await member.next('broadcast'), { data: 'everyone', from: { connectionId: null, user: null }, messageId: broadcast.json().messageId })
})

t.test('a missing or wrong key is 401 JSON with WWW-Authenticate; nothing is delivered', async t => {
  const { app, url } = await listen(t, { API_KEY })
  const member = await connect(t, `${url}/ws/general`)
  const attempts: Array<Record<string, string>> = [{}, { 'x-api-key': 'wrong' }, { 'x-api-key': API_KEY.slice(0, -1) + 'X' }, { 'x-api-key': API_KEY + 'X' }]
  for (const headers of attempts) {
    const res = await app.inject(post('/rooms/general/messages', { data: 'x' }, headers))
    t.equal(res.statusCode, 401, JSON.stringify(headers))
    t.equal(res.json().error, 'unauthorized')
    t.match(res.headers['www-authenticate'], /ApiKey/)
  }
  for (const url of ['/broadcast', '/users/ada/disconnect', '/connections/c1/disconnect']) {
    t.equal((await app.inject(post(url, { data: 1 }))).statusCode, 401, url)
  }
  member.send({ type: 'ping', id: 'after' })
  await member.next('pong')
  t.same(member.frames.filter(f => f.type === 'message' || f.type === 'broadcast'), [], 'no refused call was delivered')
})

t.test('with auth on: a chat:publish token acts as its sub; without the scope 403; no token 401', async t => {
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY })
  const member = await connect(t, `${url}/ws/general`, bearer(sign({ sub: 'reader' })))
  const publisher = sign({ sub: 'backend', scope: 'chat:publish' })
  const res = await app.inject(post('/rooms/general/messages', { data: 'signed' }, bearer(publisher)))
  t.equal(res.statusCode, 201)
  t.match(await member.next('message'), { data: 'signed', from: { connectionId: null, user: 'backend' } })

  const noScope = await app.inject(post('/rooms/general/messages', { data: 'x' }, bearer(sign({ sub: 'user', scope: 'chat:broadcast' }))))
  t.equal(noScope.statusCode, 403)
  t.equal(noScope.json().error, 'forbidden')
  const expired = await app.inject(post('/rooms/general/messages', { data: 'x' }, bearer(sign({ sub: 'backend', scope: 'chat:publish' }, { expiresInSec: -5 }))))
  t.equal(expired.statusCode, 401)
  t.match(expired.headers['www-authenticate'], /Bearer error="invalid_token"/)
  const none = await app.inject(post('/rooms/general/messages', { data: 'x' }))
  t.equal(none.statusCode, 401)
  t.match(none.headers['www-authenticate'], /Bearer/)
  t.match(none.headers['www-authenticate'], /ApiKey/)
  t.equal((await app.inject(post('/rooms/general/messages', { data: 'key' }, { 'x-api-key': API_KEY }))).statusCode, 201, 'the key works beside auth')
})

t.test('the read routes take the API key as well as a token', async t => {
  const app = await build(t, { ...AUTH_CONFIG, API_KEY })
  t.equal((await app.inject({ url: `${PREFIX}/ws/stats`, headers: { 'x-api-key': API_KEY } })).statusCode, 200)
  t.equal((await app.inject({ url: `${PREFIX}/ws/stats`, headers: bearer(sign({ sub: 'x' })) })).statusCode, 200)
  t.equal((await app.inject({ url: `${PREFIX}/ws/stats`, headers: { 'x-api-key': 'nope' } })).statusCode, 401)
  t.equal((await app.inject(`${PREFIX}/ws/stats`)).statusCode, 401)
})

t.test('auth off and no key: the server API is open, and the start-up log warns once', async t => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _e, done) { lines.push(...chunk.toString().split('\n').filter(Boolean)); done() } })
  const app = await buildApp({ logger: { level: 'info', stream } })
  t.teardown(() => app.close())
  await app.ready()
  t.equal((await app.inject(post('/broadcast', { data: 1 }))).statusCode, 201)
  t.equal((await app.inject(post('/broadcast', { data: 2 }))).statusCode, 201)
  const warnings = lines.map(line => JSON.parse(line)).filter(entry => /server API is open/.test(entry.msg))
  t.equal(warnings.length, 1)
  t.equal(warnings[0].level, 40, 'at warn level')

  const keyed: string[] = []
  const keyedStream = new Writable({ write (chunk, _e, done) { keyed.push(chunk.toString()); done() } })
  const guarded = await buildApp({ config: { API_KEY }, logger: { level: 'info', stream: keyedStream } })
  t.teardown(() => guarded.close())
  await guarded.ready()
  t.notOk(keyed.some(line => /server API is open/.test(line)), 'no warning once a key is set')
})

t.test('bad input: room 400 invalid_room, body 400 bad_request, too large 413 too_large', async t => {
  const app = await build(t, { API_KEY, WS_MAX_MESSAGE_BYTES: 1024 })
  const key = { 'x-api-key': API_KEY }
  const cases: Array<[ReturnType<typeof post>, number, string]> = [
    [post('/rooms/bad room!/messages', { data: 1 }, key), 400, 'invalid_room'],
    [post(`/rooms/${'r'.repeat(65)}/messages`, { data: 1 }, key), 400, 'invalid_room'],
    [post('/rooms/general/messages', { text: 'no data' }, key), 400, 'bad_request'],
    [post('/rooms/general/messages', { data: 1, key: '' }, key), 400, 'bad_request'],
    [post('/rooms/general/messages', { data: 1, key: 'k'.repeat(65) }, key), 400, 'bad_request'],
    [post('/rooms/general/messages', { data: 1, transient: 'sometimes' }, key), 400, 'bad_request'],
    [post('/rooms/general/messages', [1, 2], key), 400, 'bad_request'],
    [{ ...post('/rooms/general/messages', undefined, { ...key, 'content-type': 'application/json' }), payload: '{"data":' }, 400, 'bad_request'],
    [post('/rooms/general/messages', { data: 'x'.repeat(1100) }, key), 413, 'too_large'],
    [post('/broadcast', { data: 'x'.repeat(1100) }, key), 413, 'too_large'],
    [post('/broadcast', {}, key), 400, 'bad_request'],
    [post('/users/ada/disconnect', { reason: { text: 'x' } }, key), 400, 'bad_request'],
    [post('/users/ada/disconnect', { reason: 'r'.repeat(124) }, key), 400, 'bad_request']
  ]
  for (const [request, status, error] of cases) {
    const res = await app.inject(request)
    t.equal(res.statusCode, status, `${request.url} ${String(request.payload).slice(0, 40)}`)
    t.match(res.json(), { error, message: String })
  }
  // Credentials before anything else (contract "Secure by default"): no key, 401 whatever the room.
  t.equal((await app.inject(post('/rooms/bad room!/messages', { data: 1 }))).statusCode, 401)
  // The same nesting bound as sockets, on every Node: 1000 levels pass, 1001 and 20 000 do not.
  const big = await build(t, { API_KEY, WS_MAX_MESSAGE_BYTES: 1 << 20 })
  const nested = (depth: number) => '{"data":' + '['.repeat(depth) + ']'.repeat(depth) + '}'
  for (const [depth, status] of [[MAX_DATA_DEPTH, 201], [MAX_DATA_DEPTH + 1, 400], [20000, 400]]) {
    const res = await big.inject({ ...post('/rooms/general/messages', undefined, { ...key, 'content-type': 'application/json' }), payload: nested(depth) })
    t.equal(res.statusCode, status, `data nesting ${depth} levels`)
  }
})

t.test('key and transient are passed on; a publish the hub refuses is 503 unavailable', async t => {
  const app = await build(t, { API_KEY })
  const calls: unknown[] = []
  // The hub lives inside chat-api's context; its class is reachable. The real Redis-down case is
  // in test/cluster/server-api.test.ts.
  const original = Hub.prototype.sendToRoom
  t.teardown(() => { Hub.prototype.sendToRoom = original })
  Hub.prototype.sendToRoom = async function (room, dataJson, fromJson, opts) {
    calls.push({ room, dataJson, fromJson, opts })
    return opts?.key === 'down' ? { ok: false, code: 'unavailable', message: 'Redis is unreachable' } : original.call(this, room, dataJson, fromJson, opts)
  }
  const key = { 'x-api-key': API_KEY }
  const ok = await app.inject(post('/rooms/general/messages', { data: { a: 1 }, key: 'k1', transient: true }, key))
  t.equal(ok.statusCode, 201)
  t.same(calls[0], { room: 'general', dataJson: '{"a":1}', fromJson: '{"connectionId":null,"user":null}', opts: { key: 'k1', transient: true } })
  const down = await app.inject(post('/rooms/general/messages', { data: 1, key: 'down' }, key))
  t.equal(down.statusCode, 503)
  t.same(down.json(), { error: 'unavailable', message: 'Redis is unreachable' })
})

t.test('disconnects on one instance: a user\'s sockets and one connection close with 4003 and the reason', async t => {
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY })
  const ada1 = await connect(t, `${url}/ws`, bearer(sign({ sub: 'ada' })))
  const ada2 = await connect(t, `${url}/ws`, bearer(sign({ sub: 'ada' })))
  const bob = await connect(t, `${url}/ws`, bearer(sign({ sub: 'bob' })))
  const key = { 'x-api-key': API_KEY }
  const reasons = [ada1, ada2].map(ada => new Promise<string>(resolve => ada.ws.once('close', (_code, r) => resolve(r.toString()))))
  const res = await app.inject(post('/users/ada/disconnect', { reason: 'abuse' }, key))
  t.equal(res.statusCode, 202)
  t.same(res.json(), {})
  t.same(await Promise.all([ada1.closed, ada2.closed]), [4003, 4003])
  t.same(await Promise.all(reasons), ['abuse', 'abuse'])
  t.equal((await bob.request({ type: 'ping' })).type, 'pong', 'another user is untouched')

  const bobId = bob.frames[0].connectionId
  t.equal((await app.inject(post(`/connections/${bobId}/disconnect`, undefined, { ...key, 'content-type': 'application/json' }))).statusCode, 202, 'no body is fine')
  t.equal(await bob.closed, 4003)
  t.equal((await app.inject(post('/connections/nobody/disconnect', {}, key))).statusCode, 202, 'an unknown id is accepted')
})
