/**
 * The security headers on every kind of answer (src/plugins/security-headers.ts): a JSON route, the
 * demo page, a 404 and an error, from the middleware built once; the AsyncAPI page's own policy (it
 * adds 'unsafe-eval') from @fastify/helmet's route options, and on no other route.
 */
import t from 'tap'
import { build, PREFIX } from '../helper.js'

const EXPECTED = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY'
}

t.test('every answer carries the headers; only the AsyncAPI page widens script-src', async t => {
  const app = await build(t)
  const answers = {
    health: await app.inject({ url: `${PREFIX}/health` }),
    demo: await app.inject({ url: `${PREFIX}/` }),
    missing: await app.inject({ url: `${PREFIX}/no-such-route` }),
    refused: await app.inject({ method: 'POST', url: `${PREFIX}/rooms/r/messages`, headers: { 'content-type': 'text/plain' }, payload: 'x' }),
    // An upgrade answered over HTTP (a bad room name) carries them too (set at onSend for upgrades).
    upgradeRefused: await app.inject({ url: `${PREFIX}/ws/bad%20room`, headers: { connection: 'upgrade', upgrade: 'websocket' } }),
    upgradeToPlainRoute: await app.inject({ url: `${PREFIX}/health`, headers: { connection: 'upgrade', upgrade: 'websocket' } })
  }
  for (const [name, res] of Object.entries(answers)) {
    for (const [header, value] of Object.entries(EXPECTED)) t.equal(res.headers[header], value, `${name} (${res.statusCode}): ${header}`)
    const csp = String(res.headers['content-security-policy'])
    t.match(csp, /script-src 'self'(;|$)/, `${name}: only the service's own scripts`)
    t.match(csp, /frame-ancestors 'none'/, `${name}: no framing`)
    t.equal(res.headers['strict-transport-security'], undefined, `${name}: HSTS is the proxy's`)
  }
  const page = await app.inject({ url: `${PREFIX}/docs/asyncapi` })
  t.equal(page.statusCode, 200)
  t.match(String(page.headers['content-security-policy']), /script-src 'self' 'unsafe-eval'/, 'the AsyncAPI page widens its own policy')
  t.equal(page.headers['x-frame-options'], 'DENY')
})
