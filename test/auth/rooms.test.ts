/**
 * The `rooms` claim limits the rooms a connection may join: 403 at the upgrade for a URL room,
 * error `forbidden` for a `join` frame. Without the claim, any room.
 */
import t from 'tap'
import { connect, listen } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const { app, url } = await listen(t, AUTH_CONFIG)
const limited = bearer(sign({ sub: 'carol', rooms: ['general', 'support'] }))
const unlimited = bearer(sign({ sub: 'dave' }))

t.test('a URL room listed in the claim opens, in the path and in ?room', async t => {
  const client = await connect(t, `${url}/ws/general?room=support`, limited)
  t.same(client.frames[0].rooms, ['general', 'support'])
})

const forbiddenUrls: Array<[string, string, string]> = [
  ['a path room outside the claim', '/ws/random', 'random'],
  ['a ?room outside the claim', '/ws?room=random', 'random'],
  ['an allowed path room with a ?room outside the claim', '/ws/general?room=random', 'random'],
  ['a room whose name differs only in case', '/ws/General', 'General']
]

for (const [name, path, room] of forbiddenUrls) {
  t.test(`403 before the upgrade: ${name}`, async t => {
    const refusal = await refusedUpgrade(`${url}${path}`, limited)
    t.equal(refusal.statusCode, 403)
    t.same(refusal.body, { error: 'forbidden', message: `not allowed to join "${room}"` })
  })
}

t.test('a forbidden URL room opens no socket and joins nothing', async t => {
  await refusedUpgrade(`${url}/ws/random`, limited)
  const stats = (await app.inject({ url: '/api/chat-api/ws/stats', headers: unlimited })).json()
  t.equal(stats.connections, 0)
  t.same(stats.rooms, {})
})

t.test('a join frame for a room outside the claim is answered forbidden; the socket stays open', async t => {
  const client = await connect(t, `${url}/ws`, limited)
  const refused = await client.request({ type: 'join', room: 'random' })
  t.match(refused, { type: 'error', code: 'forbidden' })
  const joined = await client.request({ type: 'join', room: 'support' })
  t.match(joined, { type: 'joined', room: 'support' })
})

t.test('a message to a forbidden room is not delivered there', async t => {
  const member = await connect(t, `${url}/ws/random`, unlimited)
  const client = await connect(t, `${url}/ws`, limited)
  await client.request({ type: 'join', room: 'random' })
  const reply = await client.request({ type: 'message', room: 'random', data: 'sneaky' })
  t.match(reply, { type: 'error', code: 'not_in_room' })
  // The member's next frame is a message sent after the attempt, so nothing came in between.
  const other = await connect(t, `${url}/ws/random`, unlimited)
  other.send({ type: 'message', room: 'random', data: 'after' })
  t.equal((await member.next('message')).data, 'after')
})

t.test('an empty rooms claim allows no room at all', async t => {
  const none = bearer(sign({ sub: 'erin', rooms: [] }))
  t.equal((await refusedUpgrade(`${url}/ws/general`, none)).statusCode, 403)
  const client = await connect(t, `${url}/ws`, none)
  t.match(await client.request({ type: 'join', room: 'general' }), { type: 'error', code: 'forbidden' })
})

t.test('without a rooms claim any room may be joined', async t => {
  const client = await connect(t, `${url}/ws/random?room=general`, unlimited)
  t.same(client.frames[0].rooms, ['random', 'general'])
  t.match(await client.request({ type: 'join', room: 'anything' }), { type: 'joined', room: 'anything' })
})
