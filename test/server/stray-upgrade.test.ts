import t from 'tap'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import WebSocket from 'ws'
import chatApi from '../../src/app.js'
import { listen } from '../helper.js'

// chat-api's WebSocket server hears every upgrade on the HTTP server. One routed outside chat-api
// (a 404, or a host route) must still have its socket closed, or it leaks and holds shutdown.

async function refusedAndClosed (url: string): Promise<number> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  const [, res] = await once(ws, 'unexpected-response')
  const status = res.statusCode
  res.resume()
  await once(res.socket, 'close')
  return status
}

t.test('standalone: an upgrade outside the prefix is refused and its socket closed', async t => {
  const { app, url } = await listen(t, { SHUTDOWN_TIMEOUT_MS: 10000 })
  const origin = url.replace('/api/chat-api', '')
  t.equal(await refusedAndClosed(`${origin}/elsewhere`), 404)
  const started = Date.now()
  await app.close()
  t.ok(Date.now() - started < 2000, 'close is not held by a leftover socket')
})

t.test('embedded in a host without @fastify/websocket: upgrades on host routes are closed', async t => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.get('/host', async () => ({ ok: true }))
  await app.register(chatApi, { env: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  t.equal(await refusedAndClosed(`ws://127.0.0.1:${port}/host`), 200)
  t.equal(await refusedAndClosed(`ws://127.0.0.1:${port}/missing`), 404)
})
