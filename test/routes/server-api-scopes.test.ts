/**
 * Version 3's scopes on the server API, and bodies validated as sent: a `chat:publish` token with a
 * `rooms` claim publishes only to those rooms and broadcasts only with `chat:broadcast` as well
 * (403 `forbidden`); without the claim it keeps version 2's rights; the API key may do everything.
 * No body field is coerced to the type the schema wants (a number is no string), on any route or
 * frame.
 */
import t from 'tap'
import { connect, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const API_KEY = 'server-api-scopes-test-key-0123456789'
const post = (url: string, payload: unknown, headers: Record<string, string>) =>
  ({ method: 'POST' as const, url: PREFIX + url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) })

t.test('a chat:publish token with a rooms claim: those rooms only, no broadcast without chat:broadcast', async t => {
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY })
  const inA = await connect(t, `${url}/ws/a`, bearer(sign({ sub: 'watcher' })))
  const inB = await connect(t, `${url}/ws/b`, bearer(sign({ sub: 'watcher' })))
  const roomsA = bearer(sign({ sub: 'backend', scope: 'chat:publish', rooms: ['a'] }))

  t.equal((await app.inject(post('/rooms/a/messages', { data: 'to a' }, roomsA))).statusCode, 201, 'a room of the claim')
  t.match(await inA.next('message'), { data: 'to a', from: { user: 'backend' } })
  const other = await app.inject(post('/rooms/b/messages', { data: 'to b' }, roomsA))
  t.same([other.statusCode, other.json().error], [403, 'forbidden'], 'another room')
  const broadcast = await app.inject(post('/broadcast', { data: 'all' }, roomsA))
  t.same([broadcast.statusCode, broadcast.json().error], [403, 'forbidden'], 'a broadcast without chat:broadcast')

  const withBroadcast = bearer(sign({ sub: 'backend', scope: 'chat:publish chat:broadcast', rooms: ['a'] }))
  t.equal((await app.inject(post('/broadcast', { data: 'all, allowed' }, withBroadcast))).statusCode, 201, 'with chat:broadcast too')
  t.equal((await app.inject(post('/rooms/b/messages', { data: 'to b' }, withBroadcast))).statusCode, 403, 'still only its rooms')

  const noClaim = bearer(sign({ sub: 'backend', scope: 'chat:publish' }))
  t.equal((await app.inject(post('/rooms/b/messages', { data: 'to b, v2' }, noClaim))).statusCode, 201, 'no rooms claim: any room')
  t.equal((await app.inject(post('/broadcast', { data: 'all, v2' }, noClaim))).statusCode, 201, 'no rooms claim: broadcast as in version 2')
  const key = { 'x-api-key': API_KEY }
  t.equal((await app.inject(post('/rooms/b/messages', { data: 'to b, key' }, key))).statusCode, 201, 'the API key: any room')
  t.equal((await app.inject(post('/broadcast', { data: 'all, key' }, key))).statusCode, 201, 'the API key: broadcast')

  // The refused ones were never delivered: b's member got exactly the allowed ones, in order.
  for (const expected of ['all, allowed', 'to b, v2', 'all, v2', 'to b, key', 'all, key']) {
    t.equal((await inB.next(f => f.type === 'message' || f.type === 'broadcast')).data, expected)
  }
  t.notOk(inB.frames.some(f => f.data === 'to b' || f.data === 'all'), 'nothing refused reached b')
})

t.test('bodies are not coerced: a field of the wrong type is 400 bad_request on every route', async t => {
  const { app, url } = await listen(t, { API_KEY })
  const member = await connect(t, `${url}/ws/r`)
  const key = { 'x-api-key': API_KEY }
  const wrong: Array<[string, unknown]> = [
    ['/rooms/r/messages', { data: 1, key: 7 }],
    ['/rooms/r/messages', { data: 1, key: true }],
    ['/rooms/r/messages', { data: 1, transient: 'true' }],
    ['/rooms/r/messages', { data: 1, transient: 1 }],
    ['/rooms/r/messages', { data: 1, key: ['k'] }],
    ['/users/ada/disconnect', { reason: 5 }],
    ['/users/ada/disconnect', { reason: false }],
    ['/connections/c1/disconnect', { reason: 5 }]
  ]
  for (const [route, body] of wrong) {
    const res = await app.inject(post(route, body, key))
    t.same([res.statusCode, res.json().error], [400, 'bad_request'], `${route} ${JSON.stringify(body)}`)
  }
  t.equal((await app.inject(post('/rooms/r/messages', { data: 'right', key: 'k7' }, key))).statusCode, 201, 'the right types pass')
  t.equal((await member.next('message')).data, 'right', 'and only that one was delivered')
  t.notOk(member.frames.some(f => f.type === 'message' && f.data === 1), 'no refused body was delivered')
})

t.test('frames are not coerced either: bad_frame for a field of the wrong type', async t => {
  const { url } = await listen(t)
  const client = await connect(t, `${url}/ws/r`)
  const wrong = [
    { type: 'message', room: 'r', data: 1, key: 7 },
    { type: 'message', room: 'r', data: 1, transient: 'true' },
    { type: 'join', room: 'q', since: { offset: '3', epoch: 'e' } },
    { type: 'history', room: 'r', limit: '5' },
    { type: 'history', room: 'r', before: '5' },
    { type: 'refresh', token: 7 }
  ]
  for (const frame of wrong) t.match(await client.request(frame), { type: 'error', code: 'bad_frame' }, JSON.stringify(frame))
})
