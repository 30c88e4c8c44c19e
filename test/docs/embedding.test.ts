import t from 'tap'
import Fastify from 'fastify'
import fastifySwagger from '@fastify/swagger'
import { chatApi } from '../../src/app.js'
import { PREFIX } from '../helper.js'

async function host (t: { teardown: (fn: () => unknown) => void }) {
  const app = Fastify()
  t.teardown(() => app.close())
  return app
}

t.test('a host with its own @fastify/swagger keeps it, and its document shows our routes and frames', async t => {
  const app = await host(t)
  await app.register(fastifySwagger, { openapi: { info: { title: 'host', version: '1.0.0' } } })
  app.get('/host-route', { schema: { tags: ['host'] } }, async () => 'hi')
  await app.register(chatApi, { env: false })
  await app.ready()

  const doc = app.swagger() as any
  t.equal(doc.info.title, 'host', 'the host\'s document, not a second one')
  t.ok(doc.paths['/host-route'])
  t.ok(doc.paths[`${PREFIX}/ws/{room}`])
  t.ok(doc.paths[`${PREFIX}/docs/asyncapi.json`])
  const titles = Object.values<any>(doc.components.schemas).map(s => s.title)
  t.ok(titles.includes('JoinFrame') && titles.includes('ErrorFrame'), 'the frame schemas reach the host document')

  t.equal((await app.inject(`${PREFIX}/docs/json`)).statusCode, 404, 'no second swagger under our prefix')
  const asyncapi = await app.inject(`${PREFIX}/docs/asyncapi.json`)
  t.equal(asyncapi.statusCode, 200)
  t.equal(asyncapi.json().asyncapi, '3.0.0')
})

t.test('a host that already registered a frame $id keeps its schema, and chat-api still starts', async t => {
  const app = await host(t)
  const hostJoin = { $id: 'JoinFrame', type: 'object', description: 'the host\'s own JoinFrame' }
  app.addSchema(hostJoin)
  await app.register(chatApi, { env: false })
  await app.ready()

  t.same(app.getSchema('JoinFrame'), hostJoin)
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.equal(doc.components.schemas.JoinFrame.description, 'the host\'s own JoinFrame')
  t.equal(doc.components.schemas.LeaveFrame.properties.type.const, 'leave', 'the other frames are ours')
})

t.test('two chat-api instances under different prefixes in one host each serve their docs', async t => {
  const app = await host(t)
  await app.register(chatApi, { env: false, prefix: '/a' })
  await app.register(chatApi, { env: false, prefix: '/b' })
  await app.ready()
  t.equal((await app.inject('/a/docs/asyncapi.json')).json().servers.chat.pathname, '/a')
  t.equal((await app.inject('/b/docs/asyncapi.json')).json().servers.chat.pathname, '/b')
  const paths = Object.keys((await app.inject('/a/docs/json')).json().paths)
  t.ok(paths.length > 0 && paths.every(p => p.startsWith('/a/')), 'each OpenAPI document holds its own routes')
})
