/**
 * HOOK_URL requests are signed as Standard Webhooks: checked here with a hand-written HMAC, not
 * with the service's own code; a tampered body fails the check. They reuse kept-alive
 * connections. HOOK_URL without a valid HOOK_SECRET refuses to start, naming the variable.
 */
import t from 'tap'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { buildApp, loadConfig } from '../../src/app.js'
import { connect, listen } from '../helper.js'
import { hookSecret, hookServer, type HookCall } from '../helpers/hook-server.js'

/** The receiver's check, from the Standard Webhooks specification: HMAC-SHA256 of `id.timestamp.body`. */
function verify (key: Buffer, call: Pick<HookCall, 'headers' | 'raw'>): boolean {
  const id = call.headers['webhook-id']
  const timestamp = call.headers['webhook-timestamp']
  const signature = call.headers['webhook-signature']
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string') return false
  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${call.raw}`).digest('base64'))
  return signature.split(' ').some(part => {
    const [version, value] = part.split(',')
    const given = Buffer.from(value ?? '')
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected)
  })
}

t.test('every hook request is signed; a tampered body fails; connections are kept alive', async t => {
  const { secret, key } = hookSecret()
  const hooks = await hookServer(t, () => ({ body: { allow: true } }))
  const { url } = await listen(t, { HOOK_URL: hooks.url, HOOK_SECRET: secret, WS_RATE_LIMIT_PER_SEC: 0 })
  const alice = await connect(t, `${url}/ws/signed`)
  for (let i = 0; i < 20; i++) await alice.request({ type: 'message', room: 'signed', data: { i, text: 'ünïcødé' } })
  t.same(hooks.calls.map(call => call.hook).slice(0, 3), ['connect', 'join', 'publish'])
  t.equal(hooks.calls.length, 22)
  for (const call of hooks.calls) {
    if (!verify(key, call)) t.fail(`bad signature on ${call.hook}`)
    const age = Date.now() / 1000 - Number(call.headers['webhook-timestamp'])
    if (!(age >= -1 && age < 60)) t.fail(`timestamp ${call.headers['webhook-timestamp']} is not now`)
  }
  t.pass('all 22 requests verify')
  t.equal(new Set(hooks.calls.map(call => call.headers['webhook-id'])).size, 22, 'each request has its own id')
  t.match(hooks.calls[0].headers['content-type'], /^application\/json/)
  const call = hooks.calls[2]
  t.notOk(verify(key, { ...call, raw: call.raw.replace('"i":0', '"i":1') }), 'a tampered body fails')
  t.notOk(verify(hookSecret().key, call), 'another key fails')
  // Sequential calls on kept-alive connections: far fewer client ports than requests.
  t.ok(new Set(hooks.calls.map(call => call.remotePort)).size <= 3, 'requests share kept-alive connections')
})

t.test('HOOK_URL without a valid HOOK_SECRET, or a bad HOOK_EVENTS, refuses to start naming the variable', async t => {
  const url = 'http://127.0.0.1:9/hooks'
  t.throws(() => loadConfig({ env: false, data: { HOOK_URL: url } }), /HOOK_URL is set without HOOK_SECRET/)
  t.throws(() => loadConfig({ env: false, data: { HOOK_URL: url, HOOK_SECRET: 'whsec_c2hvcnQ=' } }), /HOOK_SECRET must be whsec_/)
  t.throws(() => loadConfig({ env: false, data: { HOOK_URL: url, HOOK_SECRET: 'not-a-secret' } }), /HOOK_SECRET must be whsec_/)
  t.throws(() => loadConfig({ env: false, data: { HOOK_URL: url, HOOK_SECRET: hookSecret().secret, HOOK_EVENTS: 'connect,leave' } }), /HOOK_EVENTS names "leave"/)
  t.throws(() => loadConfig({ env: false, data: { HOOK_FAILURE: 'maybe' } }), /HOOK_FAILURE/)
  await t.rejects(buildApp({ config: { HOOK_URL: url } }), /HOOK_SECRET/)
  t.match(loadConfig({ env: false, data: {} }), { HOOK_TIMEOUT_MS: 1000, HOOK_FAILURE: 'closed' })
})
