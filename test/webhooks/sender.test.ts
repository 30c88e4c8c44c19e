/**
 * One attempt of the webhook sender against a real HTTP receiver: a 2xx acknowledges, any other
 * status does not, and a receiver that takes the request but never answers fails the attempt at
 * WEBHOOK_TIMEOUT_MS, leaving the pool able to send the next one.
 */
import t from 'tap'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WebhookSender } from '../../src/webhooks/sender.js'
import { webhookEvent, type WebhookEvent } from '../../src/webhooks/events.js'

const TIMEOUT_MS = 300

interface Teardown { teardown: (fn: () => unknown) => void }

async function receiver (t: Teardown, answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => answer(req, res)) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
}

const event = (id: string): WebhookEvent => webhookEvent(id, 'message.stored', Date.now(), '{"room":"r"}', 'r')

t.test('a 2xx acknowledges, another status does not', async (t) => {
  let status = 204
  const url = await receiver(t, (_req, res) => { res.statusCode = status; res.end('ignored body') })
  const sender = new WebhookSender({ url, key: Buffer.alloc(32, 1), timeoutMs: 5000 })
  t.teardown(() => sender.close())
  t.same(await sender.send(event('a')), { ok: true })
  status = 500
  t.same(await sender.send(event('b')), { ok: false, reason: 'status 500' })
  status = 301
  t.same(await sender.send(event('c')), { ok: false, reason: 'status 301' })
})

t.test('a receiver that never answers fails the attempt at the deadline; the next one goes through', async (t) => {
  let answering = false
  const url = await receiver(t, (_req, res) => { if (answering) res.end() })
  const sender = new WebhookSender({ url, key: Buffer.alloc(32, 1), timeoutMs: TIMEOUT_MS })
  t.teardown(() => sender.close())
  const started = performance.now()
  const result = await sender.send(event('slow'))
  const took = performance.now() - started
  t.match(result, { ok: false, reason: /Timeout/ })
  t.ok(took >= TIMEOUT_MS - 20, `not before the deadline (${Math.round(took)} ms)`)
  t.ok(took < TIMEOUT_MS + 2000, `not long after it (${Math.round(took)} ms)`)
  answering = true
  t.same(await sender.send(event('next')), { ok: true }, 'the pool sends the next attempt')
})

t.test('a refused connection fails the attempt with its reason', async (t) => {
  const url = await receiver(t, (_req, res) => { res.end() })
  const port = new URL(url).port
  const sender = new WebhookSender({ url: `http://127.0.0.1:${port}/hooks`, key: Buffer.alloc(32, 1), timeoutMs: 2000 })
  t.teardown(() => sender.close())
  t.same(await sender.send(event('up')), { ok: true })
  const closed = new WebhookSender({ url: 'http://127.0.0.1:1/hooks', key: Buffer.alloc(32, 1), timeoutMs: 2000 })
  t.teardown(() => closed.close())
  t.match(await closed.send(event('down')), { ok: false, reason: /ECONNREFUSED|connect/ })
})
