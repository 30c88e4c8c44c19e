import t, { type Test } from 'tap'
import { buildAsyncApi, nameOf } from '../../src/docs/asyncapi.js'
import { CloseCode, ErrorCode } from '../../src/protocol.js'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../../src/schemas/frames.js'
import { build, PREFIX } from '../helper.js'

const CLIENT = CLIENT_FRAME_SCHEMAS.map(nameOf)
const SERVER = SERVER_FRAME_SCHEMAS.map(nameOf)

/** Follows a local `$ref` (`#/a/b`) inside the document. */
function deref (doc: any, node: any): any {
  if (node?.$ref === undefined) return node
  return deref(doc, node.$ref.slice(2).split('/').reduce((at: any, key: string) => at?.[key], doc))
}

async function asyncapi (t: Test, config = {}, headers = {}) {
  const app = await build(t, config)
  const res = await app.inject({ url: `${PREFIX}/docs/asyncapi.json`, headers })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /^application\/json/)
  return JSON.parse(res.body)
}

t.test('served as JSON, AsyncAPI 3.0.0, with a ws server under the prefix', async t => {
  const doc = await asyncapi(t, { PORT: 8080 }, { host: 'evil.example' })
  t.equal(doc.asyncapi, '3.0.0')
  t.equal(doc.defaultContentType, 'application/json')
  t.same(Object.keys(doc.servers), ['chat'])
  t.match(doc.servers.chat, { host: 'localhost:8080', pathname: PREFIX, protocol: 'ws' }, 'no PUBLIC_URL: localhost, never the request\'s Host')
  t.notOk(doc.servers.chat.security, 'auth off: no security on the server')
  t.match(doc.components.securitySchemes, {
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    accessToken: { type: 'httpApiKey', in: 'query', name: 'access_token' }
  })
})

t.test('auth on: the server takes either security scheme', async t => {
  const doc = await asyncapi(t, { AUTH_ENABLED: true, JWT_SECRET: 'docs-test-secret' })
  t.same(doc.servers.chat.security.map((s: any) => deref(doc, s).type), ['http', 'httpApiKey'])
  t.match(doc.info.description, /Authentication is on/)
})

t.test('the server is named from PUBLIC_URL, never from the request\'s Host', async t => {
  const doc = await asyncapi(t, { PUBLIC_URL: 'https://chat.example.com/edge/' }, { host: 'evil.example', 'x-forwarded-host': 'evil.example' })
  t.match(doc.servers.chat, { host: 'chat.example.com', pathname: `/edge${PREFIX}`, protocol: 'wss' })
  t.notOk(JSON.stringify(doc).includes('evil.example'))
  const plain = await asyncapi(t, { PUBLIC_URL: 'http://10.0.0.5:3000' }, { host: 'evil.example' })
  t.match(plain.servers.chat, { host: '10.0.0.5:3000', pathname: PREFIX, protocol: 'ws' })
})

t.test('behind TLS the server protocol is wss', async t => {
  const doc = buildAsyncApi({ prefix: '/p', host: 'chat.example', secure: true, authEnabled: false, version: '1.2.3' }) as any
  t.match(doc.servers.chat, { host: 'chat.example', pathname: '/p', protocol: 'wss' })
  t.equal(doc.info.version, '1.2.3')
})

t.test('channels /ws and /ws/{room}, the room a parameter, the query in the ws binding', async t => {
  const doc = await asyncapi(t)
  t.same(Object.values(doc.channels).map((c: any) => c.address), ['/ws', '/ws/{room}'])
  t.same(Object.keys(doc.channels.wsRoom.parameters), ['room'])
  t.notOk(doc.channels.ws.parameters)
  for (const channel of Object.values<any>(doc.channels)) {
    t.same(Object.keys(channel.bindings.ws.query.properties), ['room', 'access_token'])
    t.same(Object.keys(channel.messages), [...CLIENT, ...SERVER])
  }
})

t.test('send operations carry the client frames, receive the server frames, one message per frame', async t => {
  const doc = await asyncapi(t)
  const ops = Object.values<any>(doc.operations)
  t.equal(ops.length, 4)
  for (const op of ops) {
    const channel = deref(doc, op.channel)
    t.ok(channel?.address, 'the operation names a channel of the document')
    const names = op.messages.map((m: any) => {
      t.match(m.$ref, /^#\/channels\/[^/]+\/messages\//, 'operation messages point into their channel')
      t.ok(m.$ref.startsWith(op.channel.$ref + '/'), 'and into the same channel as the operation')
      return deref(doc, m).name
    })
    t.same(names, op.action === 'send' ? CLIENT : SERVER, `${op.action} on ${channel.address}`)
  }
  t.same(ops.map(op => op.action).sort(), ['receive', 'receive', 'send', 'send'])

  t.same(Object.keys(doc.components.messages), [...CLIENT, ...SERVER])
  for (const name of [...CLIENT, ...SERVER]) {
    const message = doc.components.messages[name]
    t.equal(message.contentType, 'application/json')
    t.same(message.payload, { $ref: `#/components/schemas/${name}` })
    t.equal(deref(doc, message.payload).type, 'object', `${name} payload resolves`)
  }
  t.match(doc.components.messages.JoinFrame, { title: /^join/, description: /answered by `joined`/ })
})

t.test('Markdown only where AsyncAPI renders it: no code marks in a title or summary', async t => {
  const doc = await asyncapi(t)
  // `description` is CommonMark; `title` and `summary` are plain text, shown as written (with
  // their backticks) by the AsyncAPI page.
  const plain: string[] = []
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) return
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'title' || key === 'summary') && typeof value === 'string') plain.push(`${path}.${key}: ${value}`)
      else walk(value, `${path}.${key}`)
    }
  }
  walk(doc, '$')
  t.ok(plain.some(text => text.startsWith('$.operations.receiveFrames.summary')), 'the walk reaches the summaries')
  t.same(plain.filter(text => text.includes('`')), [], 'no backtick in a plain-text field')
})

t.test('the error codes and close codes of the protocol are described', async t => {
  const doc = await asyncapi(t)
  const error = doc.components.messages.ErrorFrame
  for (const code of Object.values(ErrorCode)) {
    t.match(error.description, `\`${code}\``, code)
    t.type(error['x-error-codes'][code], 'string')
  }
  for (const channel of Object.values<any>(doc.channels)) {
    for (const code of Object.values(CloseCode)) {
      t.match(channel.description, `\`${code}\``, String(code))
      t.type(channel['x-close-codes'][code], 'string')
    }
  }
})
