/**
 * Who may do what (contract "Secure by default"): disconnects need the API key or a chat:admin
 * token, and stats show a token with a `rooms` claim only those rooms.
 */
import t from 'tap'
import { build, connect, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const API_KEY = 'security-rights-test-key-0123456789abcdef'
const json = { 'content-type': 'application/json' }
const disconnect = (url: string, headers: Record<string, string>) =>
  ({ method: 'POST' as const, url: PREFIX + url, headers: { ...json, ...headers }, payload: '{}' })

t.test('a chat:publish token may not disconnect anyone; chat:admin and the API key may', async t => {
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY })
  const bob = await connect(t, `${url}/ws`, bearer(sign({ sub: 'bob' })))
  const bobId = bob.frames[0].connectionId
  const mallory = bearer(sign({ sub: 'mallory', rooms: ['lobby'], scope: 'chat:publish' }))
  for (const path of ['/users/bob/disconnect', `/connections/${bobId}/disconnect`]) {
    const res = await app.inject(disconnect(path, mallory))
    t.equal(res.statusCode, 403, path)
    t.equal(res.json().error, 'forbidden')
  }
  t.equal((await bob.request({ type: 'ping' })).type, 'pong', 'bob is still connected')

  const admin = bearer(sign({ sub: 'ops', scope: 'chat:admin' }))
  t.equal((await app.inject(disconnect('/users/bob/disconnect', admin))).statusCode, 202)
  t.equal(await bob.closed, 4003)
  const carol = await connect(t, `${url}/ws`, bearer(sign({ sub: 'carol' })))
  const res = await app.inject(disconnect(`/connections/${carol.frames[0].connectionId}/disconnect`, { 'x-api-key': API_KEY }))
  t.equal(res.statusCode, 202)
  t.equal(await carol.closed, 4003)
  // chat:admin is for disconnects only: publishing still needs chat:publish.
  const publish = await app.inject({ method: 'POST', url: `${PREFIX}/rooms/lobby/messages`, headers: admin, payload: { data: 1 } })
  t.equal(publish.statusCode, 403)
})

t.test('stats: a token with a rooms claim sees only those rooms; no claim, chat:admin and the key see all', async t => {
  const { app, url } = await listen(t, { ...AUTH_CONFIG, API_KEY })
  const alice = sign({ sub: 'alice' })
  await connect(t, `${url}/ws/dm.alice.bob`, bearer(alice))
  await connect(t, `${url}/ws/lobby`, bearer(alice))
  const stats = async (headers: Record<string, string>) => (await app.inject({ url: `${PREFIX}/ws/stats`, headers })).json()

  t.same((await stats(bearer(sign({ sub: 'eve', rooms: [] })))).rooms, {}, 'rooms: [] sees no room')
  t.same((await stats(bearer(sign({ sub: 'eve', rooms: ['lobby', 'empty'] })))).rooms, { lobby: 1 }, 'only the claimed rooms, and no empty one')
  t.equal((await stats(bearer(sign({ sub: 'eve', rooms: ['lobby'] })))).connections, 2, 'the connection count stays')
  const all = { 'dm.alice.bob': 1, lobby: 1 }
  t.same((await stats(bearer(alice))).rooms, all, 'no rooms claim: every room')
  t.same((await stats(bearer(sign({ sub: 'ops', rooms: [], scope: 'chat:admin' })))).rooms, all, 'chat:admin: every room')
  t.same((await stats({ 'x-api-key': API_KEY })).rooms, all, 'the API key: every room')
})

t.test('auth off and no API key: stats and disconnects stay open', async t => {
  const app = await build(t)
  t.equal((await app.inject(disconnect('/users/bob/disconnect', {}))).statusCode, 202)
  t.same((await app.inject(`${PREFIX}/ws/stats`)).json().rooms, {})
})
