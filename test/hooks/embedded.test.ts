/**
 * Embedded hooks: async functions in the plugin options of chat-api registered in a host Fastify
 * app. The same decisions as HOOK_URL; a function that throws or hangs is a failed hook.
 */
import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import chatApi, { type HookFunctions, type PublishInput } from '../../src/app.js'
import { connect } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'

async function host (t: Test, hooks: HookFunctions, config: Record<string, unknown> = {}) {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/host', async () => ({ host: true }))
  await app.register(chatApi, { prefix: '/chat', env: false, WS_RATE_LIMIT_PER_SEC: 0, hooks, ...config })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `ws://127.0.0.1:${port}/chat`, http: `http://127.0.0.1:${port}/chat` }
}

t.test('connect, join and publish decided by the host\'s functions', async t => {
  const seen: PublishInput[] = []
  const { app, url, http } = await host(t, {
    async connect ({ headers }) {
      return headers['user-agent'] === 'blocked' ? { allow: false, reason: 'no bots' } : { allow: true, meta: { tier: 'pro' } }
    },
    join: ({ room }) => room.startsWith('staff-') ? { allow: false, reason: 'staff only' } : { allow: true },
    async publish (input) {
      seen.push(input)
      if (input.data === 'nope') return { allow: false, reason: 'not today' }
      if (input.data === 'boom') throw new Error('the host\'s hook broke')
      return typeof input.data === 'string' ? { allow: true, data: input.data.toUpperCase() } : { allow: true }
    }
  })
  t.same((await app.inject('/host')).json(), { host: true }, 'the host\'s own route still works')

  const refusal = await refusedUpgrade(`${url}/ws`, { 'user-agent': 'blocked' })
  t.equal(refusal.statusCode, 403)
  t.match(refusal.body, { error: 'forbidden', reason: 'no bots' })
  t.equal((await refusedUpgrade(`${url}/ws/staff-room`)).statusCode, 403)

  const alice = await connect(t, `${url}/ws/lobby`)
  t.match(await alice.request({ type: 'join', room: 'staff-only' }), { code: 'forbidden', reason: 'staff only' })
  const presence = await alice.request({ type: 'presence', room: 'lobby' })
  t.same(presence.members[0].meta, { tier: 'pro' })

  t.match(await alice.request({ type: 'message', room: 'lobby', data: 'hello' }), { type: 'ack', offset: 1 })
  t.equal((await alice.next('message')).data, 'HELLO', 'rewritten before it was stored and delivered')
  t.match(await alice.request({ type: 'message', room: 'lobby', data: 'nope' }), { code: 'rejected', reason: 'not today' })
  t.match(await alice.request({ type: 'message', room: 'lobby', data: 'boom' }), { code: 'unavailable' }, 'a throwing hook fails closed')
  t.match(await alice.request({ type: 'message', room: 'lobby', data: 'transient', transient: true }), { type: 'ack' })
  t.match(seen.at(-1), { room: 'lobby', transient: true, user: null })
  t.match(await alice.request({ type: 'message', room: 'lobby', data: 'last' }), { offset: 2 })

  const api = await fetch(`${http}/rooms/lobby/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'nope' }) })
  t.equal(api.status, 403)
  t.match(await api.json(), { error: 'rejected', reason: 'not today' })
  const metrics = await (await fetch(`${http}/metrics`)).text()
  // Three upgrades asked: the refused bot, the refused staff room (connect allowed it), alice.
  t.match(metrics, /chat_api_hook_seconds_count\{hook="connect"\} 3\b/)
  t.match(metrics, /chat_api_hook_failures_total\{hook="publish"\} 1\b/)
})

t.test('a hook that never settles is a timeout; open lets it through', async t => {
  const { url } = await host(t, { publish: () => new Promise(() => {}) }, { HOOK_TIMEOUT_MS: 200, HOOK_FAILURE: 'open' })
  const alice = await connect(t, `${url}/ws/r`)
  t.match(await alice.request({ type: 'message', room: 'r', data: 'through' }), { type: 'ack', offset: 1 })
})

t.test('a bad hooks option fails registration with its name', async t => {
  const register = async (hooks: unknown, config: Record<string, unknown> = {}) => {
    const app = Fastify()
    t.teardown(() => app.close())
    await app.register(chatApi, { env: false, hooks: hooks as HookFunctions, ...config })
    await app.ready()
  }
  await t.rejects(register({ leave: async () => ({ allow: true }) }), /hooks\.leave is not a hook/)
  await t.rejects(register({ publish: 'yes' }), /hooks\.publish must be a function/)
  await t.rejects(register({ publish: async () => ({ allow: true }) }, {
    HOOK_URL: 'http://127.0.0.1:9/hooks', HOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString('base64')}`
  }), /both set/)
})
