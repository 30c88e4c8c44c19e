/**
 * `GET /rooms/{room}/history`: the history frame over HTTP, and its refusals in the contract's
 * order (400 bad room, 404 history off, then 401/403; the API key reads any room).
 */
import t from 'tap'
import { build, PREFIX } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'

const API_KEY = 'k'.repeat(40)

t.test('a page of the room\'s messages, as stored; limits and before', async t => {
  const app = await build(t)
  for (let i = 1; i <= 5; i++) {
    await app.inject({ method: 'POST', url: `${PREFIX}/rooms/r/messages`, payload: { data: i } })
  }
  const res = await app.inject(`${PREFIX}/rooms/r/history?limit=2&before=5`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const body = res.json()
  t.match(body, { room: 'r', offset: 5, epoch: String })
  t.same(body.messages.map((m: any) => [m.data, m.offset]), [[3, 3], [4, 4]])
  t.match(body.messages[0], { type: 'message', room: 'r', from: { connectionId: null }, epoch: body.epoch })
  const empty = (await app.inject(`${PREFIX}/rooms/nobody/history`)).json()
  t.same([empty.offset, empty.messages], [0, []])
  for (const query of ['limit=0', 'limit=x', 'before=-1', 'before=1.5']) {
    const bad = await app.inject(`${PREFIX}/rooms/r/history?${query}`)
    t.equal(bad.statusCode, 400, query)
    t.equal(bad.json().error, 'bad_request', query)
  }
})

t.test('refusals in order: 400 bad room, 404 history off, then 401/403', async t => {
  const off = await build(t, { ...AUTH_CONFIG, HISTORY_SIZE: 0 })
  t.equal((await off.inject(`${PREFIX}/rooms/bad%20room/history`)).json().error, 'invalid_room', '400 before anything')
  const disabled = await off.inject(`${PREFIX}/rooms/r/history`)
  t.same([disabled.statusCode, disabled.json().error], [404, 'history_disabled'], '404 before 401')

  const app = await build(t, { ...AUTH_CONFIG, API_KEY })
  t.equal((await app.inject(`${PREFIX}/rooms/r/history`)).statusCode, 401, 'no token')
  const narrow = sign({ sub: 'ada', rooms: ['other'] })
  const forbidden = await app.inject({ url: `${PREFIX}/rooms/r/history`, headers: { authorization: `Bearer ${narrow}` } })
  t.same([forbidden.statusCode, forbidden.json().error], [403, 'forbidden'])
  const allowed = await app.inject({ url: `${PREFIX}/rooms/other/history`, headers: { authorization: `Bearer ${narrow}` } })
  t.equal(allowed.statusCode, 200, 'a token allowed to join the room')
  const withKey = await app.inject({ url: `${PREFIX}/rooms/r/history`, headers: { 'x-api-key': API_KEY } })
  t.equal(withKey.statusCode, 200, 'the API key reads any room')
  const badKey = await app.inject({ url: `${PREFIX}/rooms/r/history`, headers: { 'x-api-key': 'x'.repeat(40) } })
  t.equal(badKey.statusCode, 401)
})
