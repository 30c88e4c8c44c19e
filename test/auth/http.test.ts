/**
 * The HTTP side of auth: stats takes the same token as the sockets, health and readiness never
 * need one, and a plain GET is refused for its missing token before it is told to upgrade.
 */
import t from 'tap'
import { build, connect, listen, PREFIX } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const app = await build(t, AUTH_CONFIG)
const token = sign({ sub: 'alice' })

t.test('stats needs a token', async t => {
  const res = await app.inject(`${PREFIX}/ws/stats`)
  t.equal(res.statusCode, 401)
  t.match(res.json(), { error: 'unauthorized', message: /token is required/ })
  t.equal(res.headers['www-authenticate'], 'Bearer')
})

t.test('stats refuses a bad token', async t => {
  const expired = sign({ sub: 'alice' }, { expiresInSec: -1 })
  const res = await app.inject({ url: `${PREFIX}/ws/stats`, headers: bearer(expired) })
  t.equal(res.statusCode, 401)
  t.same(res.json(), { error: 'unauthorized', message: 'the token has expired' })
})

t.test('stats answers with a token in the header or in the query', async t => {
  for (const req of [{ url: `${PREFIX}/ws/stats`, headers: bearer(token) }, { url: `${PREFIX}/ws/stats?access_token=${token}` }]) {
    const res = await app.inject(req)
    t.equal(res.statusCode, 200)
    t.match(res.json(), { connections: 0, rooms: {}, redis: 'disabled' })
  }
})

t.test('health and ready never need a token, and ignore a bad one', async t => {
  for (const path of ['/health', '/ready']) {
    t.equal((await app.inject(`${PREFIX}${path}`)).statusCode, 200, path)
    t.equal((await app.inject({ url: `${PREFIX}${path}`, headers: bearer('garbage') })).statusCode, 200, `${path} with a bad token`)
  }
})

t.test('a plain GET on /ws: 401 without a token, 426 with one', async t => {
  t.equal((await app.inject(`${PREFIX}/ws/general`)).statusCode, 401)
  const res = await app.inject({ url: `${PREFIX}/ws/general`, headers: bearer(token) })
  t.equal(res.statusCode, 426)
})

t.test('the OpenAPI document lists the 401 of the sockets and of stats', async t => {
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  for (const path of ['/ws', '/ws/{room}', '/ws/stats']) {
    const get = doc.paths[`${PREFIX}${path}`]?.get
    t.ok(get?.responses?.['401'], `${path} documents 401`)
  }
})

t.test('a WebSocket upgrade on stats or health is refused over HTTP, token or not', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  for (const path of [`/ws/stats?access_token=${token}`, `/health?access_token=${token}`, '/ready']) {
    const refusal = await refusedUpgrade(`${url}${path}`)
    t.equal(refusal.statusCode, 400, path.split('?')[0])
    t.equal(refusal.body.error, 'not_websocket')
  }
})

t.test('with auth off, a token is not needed and is ignored', async t => {
  const { app, url } = await listen(t, { AUTH_ENABLED: false })
  t.equal((await app.inject(`${PREFIX}/ws/stats`)).statusCode, 200)
  const client = await connect(t, `${url}/ws`, bearer(token))
  t.equal(client.frames[0].user, null)
  t.equal((await client.request({ type: 'broadcast', data: 'anyone may' })).type, 'ack')
})
