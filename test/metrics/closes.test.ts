/**
 * `chat_api_closes_total{code}` counts every socket this instance closed, those `ws` closes by
 * itself included: a frame over WS_MAX_MESSAGE_BYTES (1009, by ws's maxPayload) and a socket the
 * heartbeat terminates for a missed pong (no close frame: the peer sees 1006).
 */
import { test } from 'tap'
import WebSocket from 'ws'
import { once } from 'node:events'
import { connect, eventually, listen } from '../helper.js'
import { scrape, valueOf } from '../helpers/prometheus.js'

const MAX_BYTES = 1024
const HEARTBEAT_MS = 200

test('a frame over WS_MAX_MESSAGE_BYTES: closed 1009 by ws, counted under 1009', async (t) => {
  const { app, url } = await listen(t, { WS_MAX_MESSAGE_BYTES: MAX_BYTES })
  const client = await connect(t, `${url}/ws`)
  client.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(MAX_BYTES) }))
  t.equal(await client.closed, 1009)
  await eventually(async () => valueOf(await scrape(app), 'chat_api_closes_total', { code: '1009' }) === 1)
  t.pass('counted once')
})

test('a socket that misses a pong: terminated by the heartbeat, counted under 1006', async (t) => {
  const { app, url } = await listen(t, { WS_HEARTBEAT_MS: HEARTBEAT_MS })
  const answers = await connect(t, `${url}/ws`)
  // ws answers pings by itself unless told not to: this peer is "gone" as far as the server can tell.
  const silent = new WebSocket(`${url}/ws`, { autoPong: false })
  t.teardown(() => silent.terminate())
  await once(silent, 'open')
  const [code] = await once(silent, 'close')
  t.equal(code, 1006, 'no close frame: terminated')
  await eventually(async () => valueOf(await scrape(app), 'chat_api_connections') === 1)
  t.equal(valueOf(await scrape(app), 'chat_api_closes_total', { code: '1006' }), 1)
  t.equal(answers.ws.readyState, WebSocket.OPEN)
})
