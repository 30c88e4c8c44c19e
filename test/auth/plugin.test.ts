/** The auth plugin alone on a bare Fastify, and its helpers. */
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import t from 'tap'
import { principalFromClaims } from '../../src/auth/claims.js'
import { refuseStrayUpgrades } from '../../src/ws/refuse-stray-upgrades.js'
import { reasonOf } from '../../src/auth/unauthorized.js'
import authPlugin from '../../src/plugins/auth.js'
import type { Config } from '../../src/plugins/config.js'

/** A bare app with only a `config` decorator standing in for the config plugin. */
function bare (config: Partial<Config>, lines: string[] = []) {
  const stream = new Writable({ write (chunk: Buffer, _e, done) { lines.push(chunk.toString()); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  app.register(fp(async f => { f.decorate('config', config as Config) }, { name: 'chat-api-config' }))
  app.register(authPlugin)
  return app
}

t.test('auth on without a secret fails registration, naming JWT_SECRET', async t => {
  const app = bare({ AUTH_ENABLED: true })
  await t.rejects(async () => { await app.ready() }, { message: 'JWT_SECRET is required when AUTH_ENABLED=true' })
})

t.test('a secret shorter than 32 bytes is accepted with a warning', async t => {
  const lines: string[] = []
  const app = bare({ AUTH_ENABLED: true, JWT_SECRET: 'short' }, lines)
  t.teardown(() => app.close())
  await app.ready()
  t.equal(app.auth.enabled, true)
  t.match(lines.map(line => JSON.parse(line)), [{ level: 40, msg: /JWT_SECRET is shorter than 32 bytes/ }])
  t.notOk(lines.some(line => line.includes('"short"')), 'the warning does not quote the secret')
})

t.test('a long enough secret raises no warning', async t => {
  const lines: string[] = []
  const app = bare({ AUTH_ENABLED: true, JWT_SECRET: 'x'.repeat(32) }, lines)
  t.teardown(() => app.close())
  await app.ready()
  t.same(lines, [])
})

t.test('principalFromClaims', async t => {
  t.match(principalFromClaims('alice'), { problem: /not a JSON object/ })
  t.match(principalFromClaims(null), { problem: /not a JSON object/ })
  const { principal } = principalFromClaims({ sub: 'alice', rooms: ['a', 'b'], scope: 'x  chat:broadcast' }) as any
  t.equal(principal.user, 'alice')
  t.same([...principal.rooms], ['a', 'b'])
  t.equal(principal.canBroadcast, true)
  t.ok(Object.isFrozen(principal))
  t.match(principalFromClaims({ sub: 'bob' }), { principal: { user: 'bob', rooms: null, canBroadcast: false } })
})

t.test('reasonOf never passes an unknown error on', async t => {
  t.equal(reasonOf(Object.assign(new Error('token abc.def.ghi'), { code: 'FAST_JWT_EXPIRED' })), 'the token has expired')
  t.equal(reasonOf(Object.assign(new Error('token abc.def.ghi'), { code: 'SOMETHING_ELSE' })), 'the token could not be verified')
  t.equal(reasonOf(new Error('token abc.def.ghi')), 'the token could not be verified')
  t.equal(reasonOf(null), 'the token could not be verified')
})

t.test('refuseStrayUpgrades guards plain routes only, keeping their own hooks', async t => {
  const own = async () => {}
  const plain: any = { method: 'GET', url: '/x', handler: own, onRequest: own }
  refuseStrayUpgrades(plain)
  t.equal(plain.onRequest.length, 2)
  t.equal(plain.onRequest[1], own)
  const list: any = { method: 'GET', url: '/y', handler: own, onRequest: [own, own] }
  refuseStrayUpgrades(list)
  t.equal(list.onRequest.length, 3)
  for (const ws of [{ wsHandler: own }, { websocket: true }]) {
    const route: any = { method: 'GET', url: '/ws', handler: own, ...ws }
    refuseStrayUpgrades(route)
    t.equal(route.onRequest, undefined)
  }
})
