import t from 'tap'
import { Compile } from 'typebox/compile'
import { nameOf, publishedSchema } from '../../src/docs/asyncapi.js'
import { CLIENT_FRAME_SCHEMAS } from '../../src/schemas/frames.js'
import { validators } from '../../src/ws/frame-validators.js'
import { build, connect, listen, PREFIX } from '../helper.js'

t.test('each runtime validator is built from the very schema object the docs publish', async t => {
  const app = await build(t)
  const openapi = (await app.inject(`${PREFIX}/docs/json`)).json()
  const asyncapi = (await app.inject(`${PREFIX}/docs/asyncapi.json`)).json()
  t.same(Object.keys(validators), ['join', 'leave', 'message', 'broadcast', 'ping', 'history', 'refresh', 'presence', 'read', 'unread'])
  for (const [type, validator] of Object.entries(validators)) {
    const schema = validator.Type()
    t.ok(CLIENT_FRAME_SCHEMAS.includes(schema as never), `${type}: the validator holds the frames.ts object itself`)
    t.equal(schema.properties.type.const, type)
    const name = nameOf(schema)
    const json = publishedSchema(schema)
    t.same(openapi.components.schemas[name], json, `${name}: the OpenAPI component is the validator's schema`)
    t.same(asyncapi.components.schemas[name], json, `${name}: the AsyncAPI schema is the validator's schema`)
  }
})

// Shapes that nothing but the schema refuses: the session reads `id` leniently (ws/frame-head.ts)
// and never looks at `room` types or `data` itself. Each comes with a valid twin, so the verdict
// is the schema's.
const CASES = [
  { name: 'a join whose room is a number', bad: { type: 'join', room: 5, id: 'j' }, good: { type: 'join', room: 'five', id: 'j' }, reply: 'joined' },
  { name: 'an id that is an object', bad: { type: 'ping', id: {} }, good: { type: 'ping', id: 7 }, reply: 'pong' },
  { name: 'a broadcast without data', bad: { type: 'broadcast', id: 'b' }, good: { type: 'broadcast', id: 'b', data: null }, reply: 'ack' },
  { name: 'a leave whose room is an array', bad: { type: 'leave', room: ['five'], id: 'l' }, good: { type: 'leave', room: 'five', id: 'l' }, reply: 'left' }
]

t.test('a frame the published schema rejects is answered bad_frame over a real WebSocket', async t => {
  const { app, url } = await listen(t)
  const components = (await app.inject(`${PREFIX}/docs/json`)).json().components.schemas
  const client = await connect(t, `${url}/ws`)
  for (const { name, bad, good, reply } of CASES) {
    // Compiled from the served JSON, not from the TypeBox object: what a client author would use.
    const schemaName = nameOf(CLIENT_FRAME_SCHEMAS.find(s => s.properties.type.const === bad.type)!)
    const published = Compile(components[schemaName])
    t.notOk(published.Check(bad), `${name}: the published ${schemaName} rejects it`)
    t.ok(published.Check(good), `${name}: the published ${schemaName} accepts the twin`)

    client.send(bad)
    const refused = await client.next('error')
    t.equal(refused.code, 'bad_frame', name)
    t.equal(refused.id, typeof bad.id === 'object' ? undefined : bad.id, `${name}: id echoed when readable`)
    t.equal((await client.request(good)).type, reply, `${name}: the twin is accepted`)
  }
})
