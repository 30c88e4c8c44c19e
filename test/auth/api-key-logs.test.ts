/**
 * The API key never appears in a log line: accepted and refused calls of the server API and of
 * the read routes, standalone and embedded in a host with Fastify's default serializers, at the
 * most verbose level.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { buildApp, chatApi } from '../../src/app.js'
import { AUTH_CONFIG } from '../helpers/auth-tokens.js'
import { captureLogs } from '../helpers/log-capture.js'

const PREFIX = '/api/chat-api'
const API_KEY = 'log-redaction-api-key-0123456789abcdef'

async function exercise (t: Test, app: FastifyInstance): Promise<string[]> {
  const nearMiss = API_KEY.slice(0, -4) + 'XXXX'
  const call = (url: string, key: string, method: 'GET' | 'POST' = 'POST', payload: object = { data: 'x' }) =>
    app.inject({ method, url: PREFIX + url, headers: { 'x-api-key': key }, ...(method === 'POST' ? { payload } : {}) })
  t.equal((await call('/rooms/general/messages', API_KEY)).statusCode, 201)
  t.equal((await call('/rooms/general/messages', nearMiss)).statusCode, 401)
  t.equal((await call('/broadcast', API_KEY)).statusCode, 201)
  t.equal((await call('/users/ada/disconnect', API_KEY, 'POST', { reason: 'bye' })).statusCode, 202)
  t.equal((await call('/rooms/bad room/messages', API_KEY)).statusCode, 400)
  t.equal((await call('/rooms/general/messages', API_KEY, 'POST', { nodata: true })).statusCode, 400)
  t.equal((await call('/ws/stats', API_KEY, 'GET')).statusCode, 200)
  t.equal((await call('/ws/stats', nearMiss, 'GET')).statusCode, 401)
  t.equal((await call('/nowhere', API_KEY)).statusCode, 404)
  return [API_KEY, nearMiss]
}

function assertNoKey (t: Test, lines: string[], keys: string[]) {
  // Halves too: a log that cut the key up would still give most of it away.
  const secrets = keys.flatMap(key => [key, key.slice(0, 16), key.slice(16)])
  t.same(lines.filter(line => secrets.some(secret => line.includes(secret))), [], 'no line holds the key or a part of it')
  t.same(lines.filter(line => /x-api-key/i.test(line)), [], 'no line holds the header')
  // Meaningful only if the requests were logged at all.
  const urls = lines.map(line => JSON.parse(line).req?.url).filter(url => url !== undefined)
  t.ok(urls.includes(`${PREFIX}/rooms/general/messages`), 'the calls were logged')
  t.ok(lines.some(line => JSON.parse(line).res?.statusCode === 401), 'the refusals were logged')
}

t.test('standalone: buildApp with a logger', async t => {
  const { lines, logger } = captureLogs()
  const app = await buildApp({ config: { ...AUTH_CONFIG, API_KEY }, logger })
  t.teardown(() => app.close())
  assertNoKey(t, lines, await exercise(t, app))
})

t.test('embedded: the host logger and its default serializers', async t => {
  const { lines, logger } = captureLogs()
  const app = Fastify({ logger })
  t.teardown(() => app.close())
  await app.register(chatApi, { ...AUTH_CONFIG, API_KEY, env: false })
  assertNoKey(t, lines, await exercise(t, app))
})

t.test('a short key refuses to start, and the message names the variable, not the key', async t => {
  const short = 'short-key-9f8e7d'
  const err = await buildApp({ config: { API_KEY: short } }).then(() => null, (e: Error) => e)
  t.match(err?.message, /API_KEY must NOT have fewer than 32 characters/)
  t.notOk(err?.message.includes(short))
})
