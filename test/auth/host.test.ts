/**
 * chat-api with auth on, inside a host that has its own @fastify/jwt (its own secret, the plain
 * `jwt` decorator and `request.jwtVerify`): both work, and neither accepts the other's tokens.
 */
import t, { type Test } from 'tap'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyJwt from '@fastify/jwt'
import fastifyWebsocket from '@fastify/websocket'
import chatApi from '../../src/app.js'
import { connect } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { SECRET, bearer, sign } from '../helpers/auth-tokens.js'

const HOST_SECRET = 'the-host-app-has-its-own-secret-0123'

async function host (t: { teardown: (fn: () => unknown) => void }, setup: (app: FastifyInstance) => Promise<void>) {
  const app = Fastify()
  t.teardown(() => app.close())
  await setup(app)
  app.get('/me', async (request) => {
    await request.jwtVerify()
    return request.user
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `ws://127.0.0.1:${port}/chat` }
}

const chatOptions = { prefix: '/chat', env: false, AUTH_ENABLED: true, JWT_SECRET: SECRET }

/** Both verifiers at work, each refusing the other's token. */
async function bothWork (t: Test, app: FastifyInstance, url: string) {
  const hostToken = app.jwt.sign({ sub: 'host-user' })
  const chatToken = sign({ sub: 'chat-user' })

  const me = await app.inject({ url: '/me', headers: bearer(hostToken) })
  t.equal(me.statusCode, 200)
  t.equal(me.json().sub, 'host-user')
  t.equal((await app.inject({ url: '/me', headers: bearer(chatToken) })).statusCode, 401, 'the host refuses chat-api tokens')

  const client = await connect(t, `${url}/ws/general`, bearer(chatToken))
  t.equal(client.frames[0].user, 'chat-user')
  const refusal = await refusedUpgrade(`${url}/ws/general`, bearer(hostToken))
  t.equal(refusal.statusCode, 401, 'chat-api refuses host tokens')
  t.equal((await app.inject({ url: '/chat/ws/stats', headers: bearer(chatToken) })).statusCode, 200)
}

t.test('the host registered @fastify/jwt before chat-api', async t => {
  const { app, url } = await host(t, async app => {
    await app.register(fastifyJwt, { secret: HOST_SECRET })
    await app.register(chatApi, chatOptions)
  })
  await bothWork(t, app, url)
  t.same(Object.keys(app.jwt).sort(), ['cookie', 'decode', 'lookupToken', 'options', 'sign', 'verify'], "the host's jwt decorator is as the host made it")
})

t.test('the host registers @fastify/jwt after chat-api', async t => {
  const { app, url } = await host(t, async app => {
    await app.register(chatApi, chatOptions)
    await app.register(fastifyJwt, { secret: HOST_SECRET })
  })
  await bothWork(t, app, url)
})

t.test('standalone, chat-api adds nothing to the host', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(chatApi, chatOptions)
  await app.ready()
  t.notOk(app.hasDecorator('jwt'), 'the jwt decorator stays inside chat-api')
  t.notOk(app.hasRequestDecorator('jwtVerify'))
})

t.test('two chat-api instances with their own secrets in one host with @fastify/jwt', async t => {
  const otherSecret = 'the-second-chat-api-secret-0123456789'
  const { app, url } = await host(t, async app => {
    await app.register(fastifyWebsocket) // shared: two copies would both answer every upgrade
    await app.register(fastifyJwt, { secret: HOST_SECRET })
    await app.register(chatApi, chatOptions)
    await app.register(chatApi, { ...chatOptions, prefix: '/chat2', JWT_SECRET: otherSecret })
  })
  await bothWork(t, app, url)
  const second = await connect(t, url.replace('/chat', '/chat2') + '/ws', bearer(sign({ sub: 'second' }, { secret: otherSecret })))
  t.equal(second.frames[0].user, 'second')
  t.equal((await refusedUpgrade(url.replace('/chat', '/chat2') + '/ws', bearer(sign({ sub: 'first' })))).statusCode, 401)
})
