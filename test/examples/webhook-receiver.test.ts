/**
 * The receiver of docs/backend-integration.md (examples/webhook-receiver/server.mjs) against a real
 * chat-api: it verifies the signatures, stores each message once, and pushes to the subscribers
 * who were not in the room; a forged request is refused 401 and a replayed event is not handled twice.
 */
import { test } from 'tap'
import type { AddressInfo } from 'node:net'
import { connect, eventually, listen } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'
import { newWebhookSecret } from '../helpers/webhook-receiver.js'
import { parseWebhookSecret, signatureHeaders } from '../../src/signing/standard-webhooks.js'
// @ts-expect-error -- a plain JavaScript example, without types
import { createReceiver } from '../../examples/webhook-receiver/server.mjs'

test('the example receiver stores messages and pushes to subscribers who were away', async (t) => {
  const secret = newWebhookSecret()
  const pushes: Array<{ user: string, data: any }> = []
  const subscribers = new Map([['lobby', ['alice', 'bob', 'carol']]])
  const { server, db } = createReceiver({ secret, subscribers, push: async (user: string, data: any) => { pushes.push({ user, data }) } })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  const port = (server.address() as AddressInfo).port
  const { url } = await listen(t, { ...AUTH_CONFIG, WEBHOOK_URL: `http://127.0.0.1:${port}/chat-webhooks`, WEBHOOK_SECRET: secret })

  const alice = await connect(t, `${url}/ws/lobby?access_token=${sign({ sub: 'alice' })}`)
  const bob = await connect(t, `${url}/ws/lobby?access_token=${sign({ sub: 'bob' })}`)
  await eventually(() => db.present.get('lobby')?.size === 2)
  const sent = await alice.request({ type: 'message', room: 'lobby', data: 'hi all' })
  t.equal(sent.type, 'ack')
  await eventually(() => db.messages.size === 1)
  t.same(pushes.map(p => p.user), ['carol'], 'only carol was away (alice sent it, bob was there)')
  t.equal([...db.messages.values()][0].data, 'hi all')

  // A forged request is refused; the same event twice is handled once.
  const body = JSON.stringify({ type: 'message.stored', id: 'x', timestamp: Date.now(), data: {} })
  const forged = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'webhook-id': 'x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': 'v1,AAAA' } })
  t.equal(forged.status, 401)
  bob.ws.close()
  await eventually(() => db.present.get('lobby')?.size === 1)
  t.equal((await alice.request({ type: 'message', room: 'lobby', data: 'bob left' })).type, 'ack')
  await eventually(() => db.messages.size === 2)
  t.same(pushes.map(p => p.user), ['carol', 'bob', 'carol'], 'bob is pushed once he has left')

  // The same event delivered twice (a retry after a timed-out answer): handled once.
  const event = JSON.stringify({ type: 'message.stored', id: 'evt-1', timestamp: Date.now(), data: { room: 'lobby', messageId: 'm', offset: 99, epoch: 'e', from: { connectionId: null, user: null }, data: 'twice', key: null } })
  const headers = signatureHeaders(parseWebhookSecret(secret)!, 'evt-1', Date.now() / 1000, event)
  for (let i = 0; i < 2; i++) {
    t.equal((await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: event, headers: { ...headers } })).status, 204)
  }
  t.equal(db.messages.size, 3, 'stored once')
  t.same(pushes.slice(3).map(p => p.user), ['bob', 'carol'], 'pushed once to each subscriber not in the room (alice is)')
})
