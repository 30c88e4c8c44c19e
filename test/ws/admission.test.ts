/**
 * Admission control before the upgrade: origins (403), the instance's socket cap (503, and /ready
 * 503 meanwhile), the per-user cap (429). Each refusal is HTTP JSON with no socket, and leaves the
 * open sockets as they were.
 */
import t from 'tap'
import { connect, eventually, listen, PREFIX } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'

t.test('WS_ALLOWED_ORIGINS: a listed origin or none passes; another is 403 forbidden_origin', async t => {
  const { url } = await listen(t, { WS_ALLOWED_ORIGINS: 'https://app.example.com, https://admin.example.com/' })
  const open = await connect(t, `${url}/ws/general`, { origin: 'https://app.example.com' })
  await connect(t, `${url}/ws/general`, { origin: 'https://ADMIN.example.com' })
  await connect(t, `${url}/ws/general`) // a server or a mobile app sends no Origin

  const refused = await refusedUpgrade(`${url}/ws/general`, { origin: 'https://evil.example.com' })
  t.equal(refused.statusCode, 403)
  t.equal(refused.body.error, 'forbidden_origin')
  t.equal((await refusedUpgrade(`${url}/ws`, { origin: 'null' })).statusCode, 403, 'a sandboxed page\'s "null" origin is not listed')
  t.equal((await open.request({ type: 'message', room: 'general', data: 'still here' })).type, 'ack', 'open sockets untouched')
})

t.test('the default `*` lets any origin in', async t => {
  const { url } = await listen(t)
  await connect(t, `${url}/ws`, { origin: 'https://anywhere.example' })
  t.pass()
})

t.test('WS_MAX_CONNECTIONS: past it, 503 too_many_connections and /ready 503, until a socket leaves', async t => {
  const { app, url } = await listen(t, { WS_MAX_CONNECTIONS: 2 })
  const ready = async () => (await app.inject(`${PREFIX}/ready`))
  const a = await connect(t, `${url}/ws/general`)
  t.equal((await ready()).statusCode, 200, 'ready with room for one more')
  const b = await connect(t, `${url}/ws/general`)

  const refused = await refusedUpgrade(`${url}/ws/general`)
  t.equal(refused.statusCode, 503)
  t.equal(refused.body.error, 'too_many_connections')
  const notReady = await ready()
  t.equal(notReady.statusCode, 503)
  t.equal(notReady.json().error, 'too_many_connections')

  // The sockets already open keep working, and talk to each other.
  a.send({ type: 'message', room: 'general', data: 'hello' })
  t.equal((await b.next('message')).data, 'hello')
  t.equal((await app.inject(`${PREFIX}/ws/stats`)).json().connections, 2)

  await a.close()
  await eventually(async () => (await ready()).statusCode === 200)
  await connect(t, `${url}/ws`)
})

t.test('WS_MAX_CONNECTIONS_PER_USER: the user\'s next upgrade is 429; other users still get in', async t => {
  const { url } = await listen(t, { ...AUTH_CONFIG, WS_MAX_CONNECTIONS_PER_USER: 2 })
  const ada = sign({ sub: 'ada' })
  const first = await connect(t, `${url}/ws/general`, bearer(ada))
  await connect(t, `${url}/ws/general?access_token=${ada}`)

  const refused = await refusedUpgrade(`${url}/ws/general`, bearer(ada))
  t.equal(refused.statusCode, 429)
  t.equal(refused.body.error, 'too_many_connections')
  const bob = await connect(t, `${url}/ws/general`, bearer(sign({ sub: 'bob' })))
  first.send({ type: 'message', room: 'general', data: 'from ada' })
  t.equal((await bob.next('message')).data, 'from ada', 'ada\'s open sockets are untouched')

  await first.close()
  await eventually(async () => {
    try {
      await connect(t, `${url}/ws`, bearer(ada))
      return true
    } catch {
      return false
    }
  })
  t.pass('a freed slot is taken again')
})
