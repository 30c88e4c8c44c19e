/**
 * Hooks over HTTP refuse: connect (403 before the upgrade), join (a frame, and a room in the URL),
 * publish (`rejected`: nothing stored, no offset used), from a socket and from the server API.
 */
import t, { type Test } from 'tap'
import { connect, listen } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'
import { hookSecret, hookServer, type HookCall } from '../helpers/hook-server.js'

/** Refuses user mallory, room "secret", and any message whose data holds "spam"; gives alice a meta. */
function policy (call: HookCall) {
  const { hook, body } = call
  if (hook === 'connect') {
    if (body.user === 'mallory') return { body: { allow: false, reason: 'banned until Monday' } }
    return { body: { allow: true, meta: { plan: 'gold', from: body.user } } }
  }
  if (hook === 'join') return { body: body.room === 'secret' ? { allow: false, reason: 'members only' } : { allow: true } }
  if (JSON.stringify(body.data).includes('spam')) return { body: { allow: false, reason: 'looks like spam' } }
  return { body: { allow: true } }
}

async function setUp (t: Test, config: Record<string, unknown> = {}) {
  const hooks = await hookServer(t, policy)
  const { secret } = hookSecret()
  const server = await listen(t, { ...AUTH_CONFIG, WS_JOIN_RATE_PER_SEC: 0, HTTP_RATE_LIMIT_PER_MIN: 0, HOOK_URL: hooks.url, HOOK_SECRET: secret, ...config })
  return { ...server, hooks }
}

t.test('connect: refused with 403 and the reason before any upgrade; allowed with meta shown by presence', async t => {
  const { url, hooks } = await setUp(t)
  const refusal = await refusedUpgrade(`${url}/ws`, { ...bearer(sign({ sub: 'mallory' })), origin: 'http://app.test', 'user-agent': 'hook-test/1' })
  t.equal(refusal.statusCode, 403)
  t.match(refusal.body, { error: 'forbidden', reason: 'banned until Monday' })
  t.type(refusal.body.message, 'string')
  const asked = hooks.calls.find(call => call.hook === 'connect')
  t.match(asked?.body, {
    user: 'mallory',
    claims: { sub: 'mallory' },
    remoteAddress: '127.0.0.1',
    headers: { origin: 'http://app.test', 'user-agent': 'hook-test/1' }
  })

  const alice = await connect(t, `${url}/ws/lobby`, bearer(sign({ sub: 'alice' })))
  const bob = await connect(t, `${url}/ws/lobby`, bearer(sign({ sub: 'bob' })))
  const joined = await alice.next(f => f.type === 'member_joined' && f.member.user === 'bob')
  t.same(joined.member.meta, { plan: 'gold', from: 'bob' }, 'member event carries the connect hook\'s meta')
  const presence = await bob.request({ type: 'presence', room: 'lobby' })
  t.same(presence.members.map((m: any) => m.meta).sort((a: any, b: any) => a.from.localeCompare(b.from)),
    [{ plan: 'gold', from: 'alice' }, { plan: 'gold', from: 'bob' }])
})

t.test('join: a frame is answered forbidden with the reason; a room in the URL is 403 at the upgrade', async t => {
  const { url, hooks } = await setUp(t)
  const token = bearer(sign({ sub: 'alice' }))
  const alice = await connect(t, `${url}/ws`, token)
  const welcome = alice.frames[0]
  const refused = await alice.request({ type: 'join', room: 'secret' })
  t.match(refused, { type: 'error', code: 'forbidden', reason: 'members only' })
  t.match(await alice.request({ type: 'join', room: 'open' }), { type: 'joined', room: 'open' })
  t.match(hooks.calls.find(call => call.hook === 'join' && call.body.room === 'open')?.body,
    { room: 'open', user: 'alice', connectionId: welcome.connectionId })
  // Refused, the room was not joined: a message to it is not_in_room.
  t.match(await alice.request({ type: 'message', room: 'secret', data: 1 }), { code: 'not_in_room' })

  const refusal = await refusedUpgrade(`${url}/ws/lobby?room=secret`, token)
  t.equal(refusal.statusCode, 403)
  t.match(refusal.body, { error: 'forbidden', reason: 'members only' })
  // The connection id the join hook saw at the upgrade is the socket's own.
  const carol = await connect(t, `${url}/ws/lobby`, bearer(sign({ sub: 'carol' })))
  const carolJoin = hooks.calls.find(call => call.hook === 'join' && call.body.user === 'carol')
  t.equal(carolJoin?.body.connectionId, carol.frames[0].connectionId)
})

t.test('publish: rejected with the reason, nothing stored or delivered, no offset used', async t => {
  const { url, http, hooks } = await setUp(t, { API_KEY: 'k'.repeat(32) })
  const token = bearer(sign({ sub: 'alice' }))
  const alice = await connect(t, `${url}/ws/news`, token)
  const bob = await connect(t, `${url}/ws/news`, bearer(sign({ sub: 'bob' })))
  const first = await alice.request({ type: 'message', room: 'news', data: 'hello' })
  t.match(first, { type: 'ack', offset: 1 })
  const refused = await alice.request({ type: 'message', room: 'news', data: { text: 'buy spam now' } })
  t.match(refused, { type: 'error', code: 'rejected', reason: 'looks like spam' })
  t.match(await alice.request({ type: 'message', room: 'news', data: 'third' }), { type: 'ack', offset: 2, epoch: first.epoch })
  t.match(hooks.calls.find(call => call.hook === 'publish')?.body, { room: 'news', user: 'alice', connectionId: alice.frames[0].connectionId, data: 'hello', transient: false })

  // Bob got 1 and 2; the refused message reached no one (2 arrived after it was refused).
  await bob.next(f => f.type === 'message' && f.data === 'third')
  t.same(bob.frames.filter(f => f.type === 'message').map(f => [f.offset, f.data]), [[1, 'hello'], [2, 'third']])

  // The server API: 403 rejected, and again no offset used.
  const headers = { 'x-api-key': 'k'.repeat(32), 'content-type': 'application/json' }
  const post = (data: unknown) => fetch(`${http}/rooms/news/messages`, { method: 'POST', headers, body: JSON.stringify({ data }) })
  const rejected = await post('spam again')
  t.equal(rejected.status, 403)
  t.match(await rejected.json(), { error: 'rejected', reason: 'looks like spam' })
  const accepted = await post('from the backend')
  t.equal(accepted.status, 201)
  t.match(await accepted.json(), { offset: 3 })
  t.match(hooks.calls.findLast(call => call.hook === 'publish')?.body, { room: 'news', user: null, connectionId: null, data: 'from the backend' })
  const history = await (await fetch(`${http}/rooms/news/history`, { headers })).json() as any
  t.same(history.messages.map((m: any) => m.data), ['hello', 'third', 'from the backend'])
})

t.test('HOOK_EVENTS picks the hooks HOOK_URL serves', async t => {
  const { url, hooks } = await setUp(t, { HOOK_EVENTS: 'publish' })
  const alice = await connect(t, `${url}/ws/lobby`, bearer(sign({ sub: 'mallory' })))
  t.match(await alice.request({ type: 'join', room: 'secret' }), { type: 'joined' })
  t.match(await alice.request({ type: 'message', room: 'secret', data: 'spam' }), { code: 'rejected' })
  t.same(hooks.calls.map(call => call.hook), ['publish'])
})
