/**
 * No log line holds a token: not the access_token query parameter, not the Authorization header,
 * for accepted and refused upgrades, stats, stray upgrades and 404s; standalone (buildApp's
 * logger) and embedded in a host whose logger has Fastify's default serializers.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { buildApp, chatApi } from '../../src/app.js'
import { connect } from '../helper.js'
import { refusedUpgrade } from '../helpers/refused-upgrade.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'
import { captureLogs } from '../helpers/log-capture.js'

const PREFIX = '/api/chat-api'

async function listening (t: Test, app: FastifyInstance) {
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { ws: `ws://127.0.0.1:${port}${PREFIX}`, http: `http://127.0.0.1:${port}` }
}

/** Every way a token can travel, accepted or refused; returns the secrets that went out. */
async function exercise (t: Test, base: { ws: string, http: string }, root404: boolean): Promise<string[]> {
  const inHeader = sign({ sub: 'header-user', rooms: ['general'] })
  const inQuery = sign({ sub: 'query-user', rooms: ['general'] })
  const expired = sign({ sub: 'late-user' }, { expiresInSec: -60 })

  const a = await connect(t, `${base.ws}/ws/general`, bearer(inHeader))
  const b = await connect(t, `${base.ws}/ws/general?access_token=${inQuery}`)
  a.send({ type: 'message', room: 'general', data: 'logged?' })
  await b.next('message')
  t.equal((await refusedUpgrade(`${base.ws}/ws/random?access_token=${inQuery}`)).statusCode, 403)
  t.equal((await refusedUpgrade(`${base.ws}/ws/random`, bearer(inHeader))).statusCode, 403)
  t.equal((await refusedUpgrade(`${base.ws}/ws?access_token=${expired}`)).statusCode, 401)
  t.equal((await refusedUpgrade(`${base.ws}/ws`, bearer(expired))).statusCode, 401)
  t.equal((await refusedUpgrade(`${base.ws}/ws/stats?access_token=${inQuery}`)).statusCode, 400)
  t.equal((await refusedUpgrade(`${base.ws}/nowhere?access_token=${inQuery}`)).statusCode, 404)
  // Percent-encoded, the parameter name is still access_token to the query parser.
  t.equal((await refusedUpgrade(`${base.ws}/ws/random?access%5Ftoken=${inQuery}`)).statusCode, 403)
  t.equal((await fetch(`${base.http}${PREFIX}/ws/stats?access_token=${inQuery}`)).status, 200)
  t.equal((await fetch(`${base.http}${PREFIX}/ws/stats`, { headers: bearer(inHeader) })).status, 200)
  t.equal((await fetch(`${base.http}${PREFIX}/nowhere?access_token=${inQuery}`)).status, 404)
  // Outside the prefix only buildApp's root is ours; a host's own 404 logs what its logger says.
  if (root404) t.equal((await fetch(`${base.http}/nowhere?access_token=${inQuery}`)).status, 404)
  await a.close()
  await b.close()
  return [inHeader, inQuery, expired]
}

function assertNoSecret (t: Test, lines: string[], tokens: string[]) {
  // Each part on its own too: a log that cut the token up would still give it away.
  const secrets = tokens.flatMap(token => [token, ...token.split('.')]).filter(part => part.length > 8)
  const leaks = lines.filter(line => secrets.some(secret => line.includes(secret)))
  t.same(leaks, [], 'no line holds a token or a part of one')
  t.same(lines.filter(line => /authorization|bearer/i.test(line)), [], 'no line holds the Authorization header')
  // The test means something only if the requests were logged at all.
  const urls = lines.map(line => JSON.parse(line).req?.url).filter(url => url !== undefined)
  t.ok(urls.includes(`${PREFIX}/ws/general?access_token=[redacted]`), 'the upgrade with a query token was logged, redacted')
  t.ok(urls.includes(`${PREFIX}/ws/general`), 'the upgrade with a header token was logged')
  t.ok(urls.includes(`${PREFIX}/ws/random?access%5Ftoken=[redacted]`), 'an encoded parameter name is redacted too')
  t.ok(lines.some(line => JSON.parse(line).res?.statusCode === 403), 'the refusals were logged')
}

t.test('standalone: buildApp with a logger', async t => {
  const { lines, logger } = captureLogs()
  const app = await buildApp({ config: AUTH_CONFIG, logger })
  const base = await listening(t, app)
  const tokens = await exercise(t, base, true)
  assertNoSecret(t, lines, tokens)
  t.ok(lines.some(line => JSON.parse(line).req?.url === '/nowhere?access_token=[redacted]'), 'a 404 outside the prefix is logged redacted')
})

t.test('embedded: the host logger and its default serializers', async t => {
  const { lines, logger } = captureLogs()
  const app = Fastify({ logger })
  await app.register(chatApi, { ...AUTH_CONFIG, env: false })
  const base = await listening(t, app)
  const tokens = await exercise(t, base, false)
  assertNoSecret(t, lines, tokens)
})

t.test('a socket closed by the client leaves no token in the logs either', async t => {
  const { lines, logger } = captureLogs()
  const app = await buildApp({ config: AUTH_CONFIG, logger })
  const base = await listening(t, app)
  const token = sign({ sub: 'closer' })
  const ws = new WebSocket(`${base.ws}/ws/general?access_token=${token}`)
  await once(ws, 'message')
  ws.terminate()
  await once(ws, 'close')
  await app.close()
  t.notOk(lines.some(line => line.includes(token.split('.')[2])))
})
