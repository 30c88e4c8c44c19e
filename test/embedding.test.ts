import t from 'tap'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import fastifySwagger from '@fastify/swagger'
import WebSocket from 'ws'
import chatApi from '../src/app.js'
import { Client, connect } from './helper.js'

async function host (t: { teardown: (fn: () => unknown) => void }, setup: (app: FastifyInstance) => Promise<void>) {
  const app = Fastify()
  t.teardown(() => app.close())
  await setup(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, base: `127.0.0.1:${port}` }
}

t.test('embedded in a bare host under its own prefix', async t => {
  const { app, base } = await host(t, async app => {
    await app.register(chatApi, { prefix: '/chat', env: false })
  })
  t.equal((await app.inject('/chat/health')).statusCode, 200)
  const a = await connect(t, `ws://${base}/chat/ws/general`)
  const b = await connect(t, `ws://${base}/chat/ws/general`)
  a.send({ type: 'message', room: 'general', data: 'embedded' })
  t.match(await b.next('message'), { data: 'embedded' })
  t.equal((await app.inject('/chat/docs/json')).statusCode, 200)
})

t.test('the default prefix is /api/chat-api', async t => {
  const { app } = await host(t, async app => {
    await app.register(chatApi, { env: false })
  })
  t.equal((await app.inject('/api/chat-api/health')).statusCode, 200)
})

t.test('a host with its own @fastify/websocket, @fastify/swagger and `config`', async t => {
  const { app, base } = await host(t, async app => {
    app.decorate('config', { hostSetting: 42 } as any) // a host's own config, unrelated to ours
    await app.register(fastifyWebsocket)
    await app.register(fastifySwagger, { openapi: { info: { title: 'host', version: '1.0.0' } } })
    app.register(async (scope) => {
      scope.get('/host-ws', { websocket: true }, (socket) => {
        socket.on('message', (m: Buffer) => socket.send(`echo:${m.toString()}`))
      })
    })
    app.get('/host-config', async () => (app as any).config)
    await app.register(chatApi, { prefix: '/chat', env: false, WS_MAX_MESSAGE_BYTES: 100 })
  })
  // the host's own things still work
  t.same((await app.inject('/host-config')).json(), { hostSetting: 42 })
  const hostWs = new WebSocket(`ws://${base}/host-ws`)
  t.teardown(() => hostWs.terminate())
  await new Promise(resolve => hostWs.once('open', resolve))
  hostWs.send('x')
  const [echo] = await new Promise<any[]>(resolve => hostWs.once('message', (...args) => resolve(args)))
  t.equal(echo.toString(), 'echo:x')
  // chat-api works beside them
  const a = await connect(t, `ws://${base}/chat/ws/general`)
  t.match(await a.request({ type: 'message', room: 'general', data: 1 }), { type: 'ack' })
  // the frame bound holds even though the host's ws server allows more
  const big = new Client(new WebSocket(`ws://${base}/chat/ws/general`))
  t.teardown(() => big.ws.terminate())
  await big.next('welcome')
  big.send({ type: 'message', room: 'general', data: 'x'.repeat(200) })
  t.equal(await big.closed, 1009)
  // our routes land in the host's OpenAPI document
  await app.ready()
  const spec = app.swagger() as any
  t.ok(spec.paths['/chat/ws/stats'], 'stats route in the host document')
  t.ok(spec.paths['/chat/ws/{room}'], 'ws route in the host document')
})
