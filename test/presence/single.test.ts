/**
 * Presence of one instance without Redis (in-process), PRESENCE_ENABLED=false, and who may read
 * presence: the frame's `forbidden`, and the HTTP routes' refusals in the history route's order
 * (400 bad room, 404 presence off, then 401/403; the API key reads any room).
 */
import { test } from 'tap'
import { build, connect, eventually, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const API_KEY = 'k'.repeat(40)

test('without Redis: lists, events and /cluster of the one instance', async (t) => {
  const { app, url } = await listen(t)
  const first = await connect(t, `${url}/ws/r`)
  const second = await connect(t, `${url}/ws`)
  t.match(await second.request({ type: 'join', room: 'r' }), { type: 'joined' })
  const secondId = second.frames[0].connectionId
  t.same(await first.next('member_joined'), { type: 'member_joined', room: 'r', member: { connectionId: secondId, user: null } })
  second.send({ type: 'presence', room: 'r', id: 7 })
  const reply = await second.next(f => f.id === 7)
  t.match(reply, { type: 'presence', room: 'r', count: 2, id: 7 })
  t.same(reply.members.map((m: { connectionId: string }) => m.connectionId).sort(), [first.frames[0].connectionId, secondId].sort())
  t.same(await second.request({ type: 'presence', room: 'empty' }), { type: 'presence', room: 'empty', count: 0, members: [], id: second.frames.at(-1).id })

  await second.close()
  t.match(await first.next('member_left'), { member: { connectionId: secondId } })
  await eventually(async () => (await app.inject(`${PREFIX}/rooms/r/presence`)).json().count === 1)
  t.notOk(first.frames.some(f => f.type.startsWith('member_') && f.member.connectionId === first.frames[0].connectionId), 'no self-event')

  const cluster = (await app.inject(`${PREFIX}/cluster`)).json()
  const { instanceId } = (await app.inject(`${PREFIX}/ws/stats`)).json()
  t.match(cluster, { instances: [{ instanceId, connections: 1, rooms: 1 }] })
  t.equal(cluster.instances.length, 1)
})

test('PRESENCE_ENABLED=false: presence_disabled everywhere, no member events', async (t) => {
  const { app, url } = await listen(t, { PRESENCE_ENABLED: 'false' })
  const first = await connect(t, `${url}/ws/r`)
  const second = await connect(t, `${url}/ws/r`)
  t.match(await first.request({ type: 'presence', room: 'r' }), { type: 'error', code: 'presence_disabled' })
  for (const path of ['/rooms/r/presence', '/cluster']) {
    const res = await app.inject(`${PREFIX}${path}`)
    t.same([res.statusCode, res.json().error], [404, 'presence_disabled'], path)
  }
  await second.close()
  await first.request({ type: 'message', room: 'r', data: 'sync' })
  t.notOk(first.frames.some(f => f.type.startsWith('member_')), 'no member events')
})

test('the presence frame needs the right to join the room', async (t) => {
  const { url } = await listen(t, AUTH_CONFIG)
  const client = await connect(t, `${url}/ws`, bearer(sign({ sub: 'ann', rooms: ['mine'] })))
  t.match(await client.request({ type: 'presence', room: 'theirs' }), { type: 'error', code: 'forbidden' })
  t.match(await client.request({ type: 'join', room: 'mine' }), { type: 'joined' })
  const reply = await client.request({ type: 'presence', room: 'mine' })
  t.same(reply.members, [{ connectionId: client.frames[0].connectionId, user: 'ann' }], 'user is the token sub')
  t.match(await client.request({ type: 'presence', room: 'bad room' }), { type: 'error', code: 'invalid_room' })
})

test('HTTP refusals in order: 400 bad room, 404 presence off, then 401/403', async (t) => {
  const off = await build(t, { ...AUTH_CONFIG, PRESENCE_ENABLED: 'false' })
  t.equal((await off.inject(`${PREFIX}/rooms/bad%20room/presence`)).json().error, 'invalid_room', '400 before anything')
  const disabled = await off.inject(`${PREFIX}/rooms/r/presence`)
  t.same([disabled.statusCode, disabled.json().error], [404, 'presence_disabled'], '404 before 401')

  const app = await build(t, { ...AUTH_CONFIG, API_KEY })
  t.equal((await app.inject(`${PREFIX}/rooms/r/presence`)).statusCode, 401, 'no token')
  t.equal((await app.inject(`${PREFIX}/cluster`)).statusCode, 401, '/cluster: no token')
  const narrow = sign({ sub: 'ann', rooms: ['other'] })
  const forbidden = await app.inject({ url: `${PREFIX}/rooms/r/presence`, headers: bearer(narrow) })
  t.same([forbidden.statusCode, forbidden.json().error], [403, 'forbidden'])
  t.same((await app.inject({ url: `${PREFIX}/rooms/other/presence`, headers: bearer(narrow) })).json(), { room: 'other', count: 0, members: [] })
  t.equal((await app.inject({ url: `${PREFIX}/cluster`, headers: bearer(narrow) })).statusCode, 200, '/cluster: any valid token, as /ws/stats')
  t.equal((await app.inject({ url: `${PREFIX}/rooms/r/presence`, headers: { 'x-api-key': API_KEY } })).statusCode, 200, 'the API key reads any room')
  t.equal((await app.inject({ url: `${PREFIX}/cluster?access_token=${narrow}` })).statusCode, 200, 'token in the query')
  t.equal((await app.inject({ url: `${PREFIX}/rooms/r/presence`, headers: { 'x-api-key': 'x'.repeat(40) } })).statusCode, 401, 'a wrong key')
})

test('the presence frame too checks the switch before the room right: presence_disabled, not forbidden', async (t) => {
  const { url } = await listen(t, { ...AUTH_CONFIG, PRESENCE_ENABLED: 'false' })
  const client = await connect(t, `${url}/ws?access_token=${sign({ sub: 'ann', rooms: ['mine'] })}`)
  t.match(await client.request({ type: 'presence', room: 'theirs' }), { type: 'error', code: 'presence_disabled' })
})
