import t from 'tap'
import { build, PREFIX } from '../helper.js'

t.test('health answers ok', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/health`)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
})

t.test('ready answers 200 with no Redis configured', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/ready`)
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ready' })
})

t.test('stats of an idle instance', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/ws/stats`)
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body, { connections: 0, rooms: {}, redis: 'disabled' })
  t.type(body.instanceId, 'string')
  t.ok(body.uptimeSeconds >= 0)
})

t.test('a plain GET on the WebSocket paths is 426 JSON', async t => {
  const app = await build(t)
  for (const path of ['/ws', '/ws/general', '/ws?room=general']) {
    const res = await app.inject(`${PREFIX}${path}`)
    t.equal(res.statusCode, 426, path)
    t.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    t.match(res.json(), { error: 'upgrade_required', message: String })
  }
})

t.test('an invalid room in the URL is 400 invalid_room', async t => {
  const app = await build(t)
  const long = 'x'.repeat(65)
  for (const path of ['/ws/bad%20room', `/ws/${long}`, '/ws?room=', '/ws?room=a%2Fb', '/ws/ok?room=no!']) {
    const res = await app.inject(`${PREFIX}${path}`)
    t.equal(res.statusCode, 400, path)
    t.match(res.json(), { error: 'invalid_room', message: String }, path)
  }
})

t.test('unknown paths under the prefix are JSON 404', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/nope`)
  t.equal(res.statusCode, 404)
  t.match(res.json(), { error: 'not_found', message: String })
})

t.test('the prefix is an option', async t => {
  const { buildApp } = await import('../../src/app.js')
  const app = await buildApp({ prefix: '/chat' })
  t.teardown(() => app.close())
  t.equal((await app.inject('/chat/health')).statusCode, 200)
  t.equal((await app.inject(`${PREFIX}/health`)).statusCode, 404)
})
