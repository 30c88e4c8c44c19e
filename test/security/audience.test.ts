/**
 * Tokens bound to their audience (contract "Secure by default"): with JWT_AUDIENCE / JWT_ISSUER
 * set, a token signed with the right secret but minted for another audience or by another issuer
 * (or with neither claim) is refused at the upgrade, on the HTTP routes and on `refresh`.
 */
import t from 'tap'
import { connect, listen, PREFIX } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const BOUND = { ...AUTH_CONFIG, JWT_AUDIENCE: 'chat-api', JWT_ISSUER: 'https://auth.example.com' }
const iss = BOUND.JWT_ISSUER

const foreign: Array<[string, Record<string, unknown>]> = [
  ['another audience', { aud: 'billing-service', iss }],
  ['a list of other audiences', { aud: ['billing-service', 'mail'], iss }],
  ['another issuer', { aud: 'chat-api', iss: 'https://evil.example' }],
  ['no aud', { iss }],
  ['no iss', { aud: 'chat-api' }]
]

t.test('the upgrade, stats, history and the server API refuse a token of another audience or issuer', async t => {
  const { app, url } = await listen(t, BOUND)
  for (const [what, claims] of foreign) {
    const token = sign({ sub: 'ada', scope: 'chat:publish chat:admin', ...claims })
    const refusal = await refusedUpgrade(`${url}/ws`, bearer(token))
    t.equal(refusal.statusCode, 401, `upgrade: ${what}`)
    t.equal(refusal.body.error, 'unauthorized')
    for (const path of ['/ws/stats', '/rooms/r/history']) {
      t.equal((await app.inject({ url: PREFIX + path, headers: bearer(token) })).statusCode, 401, `${path}: ${what}`)
    }
    const publish = await app.inject({ method: 'POST', url: `${PREFIX}/rooms/r/messages`, headers: bearer(token), payload: { data: 1 } })
    t.equal(publish.statusCode, 401, `publish: ${what}`)
  }
})

t.test('a token with the audience (alone or in a list) and the issuer is taken', async t => {
  const { app, url } = await listen(t, BOUND)
  for (const aud of ['chat-api', ['billing-service', 'chat-api']]) {
    const token = sign({ sub: 'ada', aud, iss, scope: 'chat:publish' })
    const client = await connect(t, `${url}/ws`, bearer(token))
    t.equal(client.frames[0].user, 'ada')
    t.equal((await app.inject({ url: `${PREFIX}/ws/stats`, headers: bearer(token) })).statusCode, 200)
    t.equal((await app.inject({ method: 'POST', url: `${PREFIX}/rooms/r/messages`, headers: bearer(token), payload: { data: 1 } })).statusCode, 201)
  }
})

t.test('refresh with a token of another audience or issuer is unauthorized; the socket keeps its token', async t => {
  const { url } = await listen(t, BOUND)
  const client = await connect(t, `${url}/ws`, bearer(sign({ sub: 'ada', aud: 'chat-api', iss })))
  for (const [what, claims] of foreign) {
    const answer = await client.request({ type: 'refresh', token: sign({ sub: 'ada', ...claims }) })
    t.match(answer, { type: 'error', code: 'unauthorized' }, what)
  }
  t.match(await client.request({ type: 'refresh', token: sign({ sub: 'ada', aud: 'chat-api', iss }) }), { type: 'refreshed' })
})
