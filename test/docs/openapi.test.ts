import t from 'tap'
import { buildApp } from '../../src/app.js'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../../src/schemas/frames.js'
import { nameOf } from '../../src/docs/asyncapi.js'
import { build, PREFIX } from '../helper.js'

const FRAME_NAMES = [
  'JoinFrame', 'LeaveFrame', 'SendMessageFrame', 'SendBroadcastFrame', 'PingFrame', 'HistoryRequestFrame', 'RefreshFrame',
  'PresenceRequestFrame', 'ReadRequestFrame', 'UnreadRequestFrame', 'WelcomeFrame', 'MessageFrame', 'BroadcastFrame', 'JoinedFrame', 'LeftFrame', 'AckFrame', 'PongFrame', 'ErrorFrame',
  'HistoryFrame', 'RefreshedFrame', 'PresenceFrame', 'MemberJoinedFrame', 'MemberLeftFrame', 'ReadFrame', 'UnreadFrame', 'ReadReceiptFrame'
]
const SERVER_API = ['/rooms/{room}/messages', '/broadcast', '/users/{user}/disconnect', '/connections/{connectionId}/disconnect']

t.test('the OpenAPI document is served as JSON, version 3.x, with every path under the prefix', async t => {
  const app = await build(t)
  const res = await app.inject(`${PREFIX}/docs/json`)
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  const doc = JSON.parse(res.body)
  t.match(doc.openapi, /^3\.\d+\.\d+$/)
  t.same(Object.keys(doc.paths).sort(), [
    '/docs/asyncapi.json', '/health', '/ready', '/rooms/{room}/history', '/rooms/{room}/presence', '/cluster', '/ws', '/ws/stats', '/ws/{room}', '/metrics', '/users/{user}/read-state', '/users/{user}/status', ...SERVER_API
  ].map(p => PREFIX + p).sort())
})

t.test('the upgrade endpoints declare 101 and every refusal with a $ref to ErrorResponse', async t => {
  const app = await build(t)
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.same(Object.keys(doc.components.schemas).filter(n => !FRAME_NAMES.includes(n)), ['ErrorResponse'],
    'components are named by $id, no def-N')
  for (const path of ['/ws', '/ws/{room}']) {
    const op = doc.paths[PREFIX + path].get
    t.same(op.tags, ['websocket'])
    t.same(Object.keys(op.responses), ['101', '400', '401', '403', '426', '429', '503'], path)
    t.match(op.responses['101'].description, /Switching Protocols/)
    t.notOk(op.responses['101'].content, 'a 101 has no body')
    for (const code of ['400', '401', '403', '426', '429', '503']) {
      t.same(op.responses[code].content['application/json'].schema, { $ref: '#/components/schemas/ErrorResponse' }, `${path} ${code}`)
    }
    const query = op.parameters.filter((p: any) => p.in === 'query').map((p: any) => [p.name, p.required])
    t.same(query, [['room', false], ['access_token', false]], `${path} query`)
  }
  const roomParam = doc.paths[`${PREFIX}/ws/{room}`].get.parameters.find((p: any) => p.in === 'path')
  t.match(roomParam, { name: 'room', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } })
  t.same(doc.components.schemas.ErrorResponse.required, ['error', 'message'])
})

t.test('the stats response schema is complete, rooms a map of counts', async t => {
  const app = await build(t)
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  const stats = doc.paths[`${PREFIX}/ws/stats`].get
  const schema = stats.responses['200'].content['application/json'].schema
  t.same(schema.required, ['instanceId', 'connections', 'rooms', 'redis', 'uptimeSeconds'])
  t.match(schema.properties, {
    instanceId: { type: 'string' },
    connections: { type: 'integer', minimum: 0 },
    rooms: { type: 'object', additionalProperties: { type: 'integer', minimum: 1 } },
    uptimeSeconds: { type: 'number' }
  })
  t.same(schema.properties.redis.anyOf.map((s: any) => s.const), ['connected', 'disabled', 'reconnecting'])
  t.same(stats.responses['401'].content['application/json'].schema, { $ref: '#/components/schemas/ErrorResponse' })
  t.same(Object.keys(doc.paths[`${PREFIX}/ready`].get.responses), ['200', '503'])
})

t.test('every frame of the protocol is a named component', async t => {
  const app = await build(t)
  const { components } = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.same([...CLIENT_FRAME_SCHEMAS, ...SERVER_FRAME_SCHEMAS].map(nameOf), FRAME_NAMES)
  for (const name of FRAME_NAMES) {
    t.equal(components.schemas[name]?.type, 'object', name)
    t.ok(components.schemas[name].properties.type.const, `${name} names its type`)
  }
  t.equal(components.schemas.JoinFrame.properties.type.const, 'join')
  t.same(components.schemas.ErrorFrame.properties.code.anyOf.map((s: any) => s.const), [
    'bad_json', 'bad_frame', 'unknown_type', 'invalid_room', 'not_in_room', 'too_many_rooms', 'forbidden', 'rate_limited',
    'unavailable', 'history_disabled', 'presence_disabled', 'unauthorized', 'rejected'
  ])
  t.equal(components.schemas.RefreshFrame.properties.token.type, 'string')
  t.same(components.schemas.RefreshedFrame.properties.exp.anyOf.map((s: any) => s.type), ['integer', 'null'])
})

t.test('auth off: no security requirement; auth on: the token routes take either scheme', async t => {
  const off = (await (await build(t)).inject(`${PREFIX}/docs/json`)).json()
  t.ok(off.components.securitySchemes.bearerAuth)
  for (const path of Object.keys(off.paths)) {
    for (const method of Object.keys(off.paths[path])) t.notOk(off.paths[path][method].security, `${method} ${path}`)
  }

  const app = await build(t, { AUTH_ENABLED: true, JWT_SECRET: 'docs-test-secret' })
  const on = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.match(on.components.securitySchemes, {
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    accessToken: { type: 'apiKey', in: 'query', name: 'access_token' }
  })
  for (const path of ['/ws', '/ws/{room}', '/ws/stats']) {
    t.same(on.paths[PREFIX + path].get.security, [{ bearerAuth: [] }, { accessToken: [] }], path)
  }
  for (const path of ['/health', '/ready', '/docs/asyncapi.json', '/metrics']) t.notOk(on.paths[PREFIX + path].get.security, path)
  for (const path of SERVER_API) t.same(on.paths[PREFIX + path].post.security, [{ bearerAuth: [] }], `${path}: a chat:publish token`)
})

t.test('the server API is listed with its schemes: X-API-Key and the bearer JWT', async t => {
  const app = await build(t, { AUTH_ENABLED: true, JWT_SECRET: 'docs-test-secret', API_KEY: 'docs-test-api-key-0123456789abcdef' })
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.match(doc.components.securitySchemes.apiKey, { type: 'apiKey', in: 'header', name: 'X-API-Key' })
  const expected: Record<string, string[]> = {
    '/rooms/{room}/messages': ['201', '400', '401', '403', '413', '415', '429', '503'],
    '/broadcast': ['201', '400', '401', '403', '413', '415'],
    '/users/{user}/disconnect': ['202', '400', '401', '403', '413', '415', '503'],
    '/connections/{connectionId}/disconnect': ['202', '400', '401', '403', '413', '415', '503']
  }
  for (const [path, codes] of Object.entries(expected)) {
    const op = doc.paths[PREFIX + path].post
    t.same(op.tags, ['server-api'], path)
    t.same(op.security, [{ apiKey: [] }, { bearerAuth: [] }], `${path}: either scheme`)
    t.same(Object.keys(op.responses), codes, path)
    t.ok(op.requestBody.content['application/json'].schema, `${path} documents its body`)
  }
  const publish = doc.paths[`${PREFIX}/rooms/{room}/messages`].post
  t.same(publish.requestBody.content['application/json'].schema.required, ['data'])
  t.match(publish.requestBody.content['application/json'].schema.properties, { key: { type: 'string', maxLength: 64 }, transient: { type: 'boolean' } })
  t.same(doc.paths[`${PREFIX}/ws/stats`].get.security, [{ bearerAuth: [] }, { accessToken: [] }, { apiKey: [] }], 'stats takes the key too')
  t.ok(doc.paths[`${PREFIX}/metrics`].get, 'metrics is listed')
})

t.test('/docs serves the Swagger UI page, pointed at the JSON document', async t => {
  const app = await build(t)
  const page = await app.inject(`${PREFIX}/docs`)
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, /swagger-ui/i)
  // Every asset the page loads must exist under the prefix, or the browser shows a blank page.
  const assets = [...page.body.matchAll(/(?:href|src)="([^"]+)"/g)].map(m => m[1])
  t.ok(assets.length >= 4, 'the page links its scripts and styles')
  for (const asset of assets) {
    t.ok(asset.startsWith(`${PREFIX}/docs/`), `${asset} is under the prefix`)
    t.equal((await app.inject(asset)).statusCode, 200, asset)
  }
  const init = await app.inject(`${PREFIX}/docs/static/swagger-initializer.js`)
  t.equal(init.statusCode, 200)
  t.match(init.body, /json/)
})

t.test('a custom prefix moves every path and the docs', async t => {
  const app = await buildApp({ prefix: '/chat' })
  t.teardown(() => app.close())
  t.equal((await app.inject(`${PREFIX}/docs/json`)).statusCode, 404)
  const doc = (await app.inject('/chat/docs/json')).json()
  t.same(Object.keys(doc.paths).sort(), ['/chat/docs/asyncapi.json', '/chat/health', '/chat/ready', '/chat/rooms/{room}/history', '/chat/rooms/{room}/presence', '/chat/cluster', '/chat/ws', '/chat/ws/stats', '/chat/ws/{room}', '/chat/metrics', '/chat/users/{user}/read-state', '/chat/users/{user}/status', ...SERVER_API.map(p => '/chat' + p)].sort())
  const asyncapi = (await app.inject('/chat/docs/asyncapi.json')).json()
  t.equal(asyncapi.servers.chat.pathname, '/chat')
  t.equal((await app.inject('/chat/docs')).statusCode, 200)
})

t.test('webhooks: one POST per event type, the body the schema the events are built and tested with, the signature headers', async t => {
  const { WEBHOOK_BODY_SCHEMAS } = await import('../../src/webhooks/events.js')
  const app = await build(t)
  const doc = (await app.inject(`${PREFIX}/docs/json`)).json()
  t.same(Object.keys(doc.webhooks), WEBHOOK_BODY_SCHEMAS.map(w => w.type))
  for (const { type, schema } of WEBHOOK_BODY_SCHEMAS) {
    const post = doc.webhooks[type].post
    t.equal(post.requestBody.content['application/json'].schema.properties.type.const, type)
    t.same(post.requestBody.content['application/json'].schema.properties.data, JSON.parse(JSON.stringify((schema as any).properties.data)))
    t.same(post.parameters.map((p: any) => p.name), ['webhook-id', 'webhook-timestamp', 'webhook-signature'])
  }
})
