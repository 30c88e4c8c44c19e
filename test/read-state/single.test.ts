/**
 * Read state on one instance without Redis (memory stores): `read`, `unread`, receipts, the
 * user's own messages, refusals, and the two HTTP routes.
 */
import t from 'tap'
import { connect, eventually, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'
import { randomName, sendMany, userSocket } from './helpers.js'

const API_KEY = 'read-state-test-api-key-0123456789abcdef'
const CONFIG = { ...AUTH_CONFIG, API_KEY }

t.test('read moves the cursor, unread counts exactly, the room gets a receipt', async t => {
  const { url } = await listen(t, CONFIG)
  const room = randomName('rs')
  const alice = await userSocket(t, url, 'alice', [room])
  const bob = await userSocket(t, url, 'bob', [room])
  const last = await sendMany(alice, room, 5)
  t.equal(last.offset, 5)

  const read = await bob.request({ type: 'read', room, offset: 3 })
  t.match(read, { type: 'read', room, offset: 3, epoch: last.epoch })
  const receipt = await alice.next('read_receipt')
  t.same(receipt, { type: 'read_receipt', room, user: 'bob', offset: 3, epoch: last.epoch })

  const unread = await bob.request({ type: 'unread' })
  t.same(unread.rooms, [{ room, epoch: last.epoch, offset: 5, readOffset: 3, unread: 2 }])

  // Backwards: the stored cursor is answered, and nobody hears of it.
  const back = await bob.request({ type: 'read', room, offset: 1 })
  t.match(back, { type: 'read', offset: 3 })
  // Above the top: bad_frame.
  const above = await bob.request({ type: 'read', room, offset: 6 })
  t.match(above, { type: 'error', code: 'bad_frame' })
  // The positive marker: a later forward read's receipt is the next one alice gets.
  await bob.request({ type: 'read', room, offset: 5 })
  t.match(await alice.next('read_receipt'), { user: 'bob', offset: 5 })
})

t.test('a user\'s own stored messages move its cursor; rooms without a cursor count from 0', async t => {
  const { url } = await listen(t, CONFIG)
  const room = randomName('own')
  const other = randomName('other')
  const alice = await userSocket(t, url, 'alice-own', [room, other])
  await sendMany(alice, room, 4)
  const bob = await userSocket(t, url, 'bob-own', [room, other])
  await sendMany(bob, other, 2)
  await eventually(async () => {
    const unread = await alice.request({ type: 'unread', rooms: [room] })
    return unread.rooms[0].readOffset === 4
  })
  const named = await alice.request({ type: 'unread', rooms: [room, other] })
  t.match(named.rooms, [{ room, offset: 4, readOffset: 4, unread: 0 }, { room: other, offset: 2, readOffset: 0, unread: 2 }])
})

t.test('refusals: auth off is unauthorized; bad shapes; a rooms claim', async t => {
  const { url } = await listen(t, {})
  const anon = await connect(t, `${url}/ws`)
  t.match(await anon.request({ type: 'read', room: 'r', offset: 1 }), { type: 'error', code: 'unauthorized' })
  t.match(await anon.request({ type: 'unread' }), { type: 'error', code: 'unauthorized' })

  const auth = await listen(t, CONFIG)
  const client = await connect(t, `${auth.url}/ws`, bearer(sign({ sub: 'carol', rooms: ['allowed'] })))
  t.match(await client.request({ type: 'read', room: 'allowed', offset: -1 }), { code: 'bad_frame' })
  t.match(await client.request({ type: 'read', room: 'allowed' }), { code: 'bad_frame' })
  t.match(await client.request({ type: 'read', room: 'bad room', offset: 0 }), { code: 'invalid_room' })
  t.match(await client.request({ type: 'unread', rooms: ['ok', 'bad room'] }), { code: 'invalid_room' })
  t.match(await client.request({ type: 'unread', rooms: 'allowed' }), { code: 'bad_frame' })
  t.match(await client.request({ type: 'read', room: 'elsewhere', offset: 0 }), { code: 'forbidden' })
  t.match(await client.request({ type: 'unread', rooms: ['elsewhere'] }), { code: 'forbidden' })
  t.match(await client.request({ type: 'read', room: 'allowed', offset: 0 }), { type: 'read', offset: 0 })

  const off = await listen(t, { ...CONFIG, HISTORY_SIZE: 0 })
  const noHistory = await connect(t, `${off.url}/ws`, bearer(sign({ sub: 'dave' })))
  t.match(await noHistory.request({ type: 'read', room: 'r', offset: 0 }), { code: 'history_disabled' })
  const res = await off.app.inject({ url: `${PREFIX}/users/dave/read-state`, headers: { 'x-api-key': API_KEY } })
  t.equal(res.statusCode, 404)
  t.equal(res.json().error, 'history_disabled')
})

t.test('GET /users/{user}/read-state: the API key or the user\'s own token', async t => {
  const { app, url } = await listen(t, CONFIG)
  const room = randomName('http')
  const erin = await userSocket(t, url, 'erin', [room])
  await sendMany(erin, room, 3)
  await erin.request({ type: 'read', room, offset: 3 })
  const get = (headers: Record<string, string>) => app.inject({ url: `${PREFIX}/users/erin/read-state`, headers })
  const byKey = await get({ 'x-api-key': API_KEY })
  t.equal(byKey.statusCode, 200)
  t.match(byKey.json().rooms, [{ room, offset: 3, readOffset: 3, unread: 0 }])
  t.equal((await get(bearer(sign({ sub: 'erin' })))).statusCode, 200)
  t.equal((await get(bearer(sign({ sub: 'frank' })))).statusCode, 403)
  t.equal((await get({})).statusCode, 401)
})

t.test('GET /users/{user}/status: online, connections, lastSeen', async t => {
  const { app, url } = await listen(t, CONFIG)
  const status = async () => (await app.inject({ url: `${PREFIX}/users/gina/status`, headers: bearer(sign({ sub: 'anyone' })) })).json()
  t.same(await status(), { user: 'gina', online: false, connections: 0, lastSeen: null })
  const one = await userSocket(t, url, 'gina')
  const two = await userSocket(t, url, 'gina')
  t.same(await status(), { user: 'gina', online: true, connections: 2, lastSeen: null })
  await one.close()
  await eventually(async () => (await status()).connections === 1)
  const before = Date.now()
  await two.close()
  await eventually(async () => (await status()).online === false)
  const after = await status()
  t.ok(after.lastSeen >= before - 5 && after.lastSeen <= Date.now(), `lastSeen ${after.lastSeen} is when the last socket closed`)
  t.equal((await app.inject({ url: `${PREFIX}/users/gina/status` })).statusCode, 401)
})
