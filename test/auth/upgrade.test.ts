/**
 * AUTH_ENABLED=true at real WebSocket upgrades: which tokens open a socket, and the 401 JSON that
 * every other one gets before the upgrade.
 */
import t from 'tap'
import { connect, listen } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { AUTH_CONFIG, bearer, sign, unsigned } from '../helpers/auth-tokens.js'

const { app, url } = await listen(t, AUTH_CONFIG)
const token = sign({ sub: 'alice' })

t.test('a valid token in the Authorization header opens the socket as its sub', async t => {
  const client = await connect(t, `${url}/ws`, bearer(token))
  t.equal(client.frames[0].type, 'welcome')
  t.equal(client.frames[0].user, 'alice')
})

t.test('a valid token in ?access_token opens the socket (browsers cannot set headers)', async t => {
  const client = await connect(t, `${url}/ws/general?access_token=${token}`)
  t.match(client.frames[0], { type: 'welcome', user: 'alice', rooms: ['general'] })
})

t.test('the header wins over the query', async t => {
  const client = await connect(t, `${url}/ws?access_token=${sign({ sub: 'bob' })}`, bearer(token))
  t.equal(client.frames[0].user, 'alice')
})

t.test('another scheme in the Authorization header leaves the query token in charge', async t => {
  // A browser resends a site's Basic credentials on the upgrade by itself.
  const client = await connect(t, `${url}/ws?access_token=${token}`, { authorization: 'Basic dXNlcjpwYXNz' })
  t.equal(client.frames[0].user, 'alice')
})

t.test('the sub is the from.user of every message the user sends', async t => {
  const alice = await connect(t, `${url}/ws/lobby`, bearer(token))
  const bob = await connect(t, `${url}/ws/lobby`, bearer(sign({ sub: 'bob' })))
  alice.send({ type: 'message', room: 'lobby', data: 'hi' })
  const got = await bob.next('message')
  t.same(got.from, { connectionId: alice.frames[0].connectionId, user: 'alice' })
})

const refusals: Array<[string, string, Record<string, string>, RegExp]> = [
  ['no token at all', '/ws', {}, /token is required/],
  ['an empty access_token', '/ws?access_token=', {}, /token is required/],
  ['"Bearer" with no token', '/ws', { authorization: 'Bearer' }, /Bearer <token>/],
  ['"Bearer" with two words', '/ws', { authorization: `Bearer ${token} extra` }, /Bearer <token>/],
  ['access_token given twice', `/ws?access_token=${token}&access_token=${token}`, {}, /once/],
  ['an expired token', '/ws', bearer(sign({ sub: 'alice' }, { expiresInSec: -60 })), /expired/],
  ['a token signed with another secret', '/ws', bearer(sign({ sub: 'alice' }, { secret: 'another-secret-0123456789abcdefghij' })), /signature is invalid/],
  ['a token that is not a JWT', '/ws', bearer('not-a-jwt'), /malformed/],
  ['a JWT with a mangled payload', '/ws', bearer(token.replace(/\.[^.]+\./, '.e30x.')), /malformed/],
  ['an unsigned token (alg none)', '/ws', bearer(unsigned({ sub: 'alice' })), /not signed/],
  ['a token signed with HS512', '/ws', bearer(sign({ sub: 'alice' }, { algorithm: 'HS512' })), /HS256/],
  ['a token not valid yet (nbf)', '/ws', bearer(sign({ sub: 'alice', nbf: Math.floor(Date.now() / 1000) + 3600 })), /not valid yet/],
  ['a token without sub', '/ws', bearer(sign({ rooms: ['general'] })), /"sub"/],
  ['a token with an empty sub', '/ws', bearer(sign({ sub: '' })), /"sub"/],
  ['a token with a numeric sub', '/ws', bearer(sign({ sub: 42 })), /"sub"/],
  ['a rooms claim that is a string', '/ws', bearer(sign({ sub: 'alice', rooms: 'general' })), /"rooms"/],
  ['a rooms claim holding a number', '/ws', bearer(sign({ sub: 'alice', rooms: ['general', 1] })), /"rooms"/],
  ['a scope claim that is an array', '/ws', bearer(sign({ sub: 'alice', scope: ['chat:broadcast'] })), /"scope"/],
  ['a bad token on a room URL', '/ws/general', bearer('x.y.z'), /malformed/]
]

for (const [name, path, headers, message] of refusals) {
  t.test(`401 before the upgrade: ${name}`, async t => {
    const refusal = await refusedUpgrade(`${url}${path}`, headers)
    t.equal(refusal.statusCode, 401)
    t.equal(refusal.body.error, 'unauthorized')
    t.match(refusal.body.message, message)
    t.match(refusal.headers['www-authenticate'], /^Bearer/)
    t.notOk(JSON.stringify(refusal.body).includes(token), 'the body never quotes the token')
  })
}

t.test('a refused upgrade leaves no socket behind', async t => {
  await refusedUpgrade(`${url}/ws/general`)
  const stats = await app.inject({ url: '/api/chat-api/ws/stats', headers: bearer(token) })
  t.same(stats.json().rooms, {})
  t.equal(stats.json().connections, 0)
})

t.test('the challenge names invalid_token only when a token came', async t => {
  t.equal((await refusedUpgrade(`${url}/ws`)).headers['www-authenticate'], 'Bearer')
  t.equal((await refusedUpgrade(`${url}/ws`, bearer('x'))).headers['www-authenticate'], 'Bearer error="invalid_token"')
})
