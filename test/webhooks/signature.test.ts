/**
 * Webhooks to a real receiver: every message.stored is signed as Standard Webhooks says, checked
 * with an independent implementation (the `standardwebhooks` package), and a tampered body fails
 * the check. With Redis and without it; from a socket and from the server API.
 */
import { test } from 'tap'
import { Webhook } from 'standardwebhooks'
import { connect, eventually, listen } from '../helper.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { newWebhookSecret, startReceiver } from '../helpers/webhook-receiver.js'
import { Compile } from 'typebox/compile'
import { loadConfig } from '../../src/app.js'
import { WEBHOOK_BODY_SCHEMAS } from '../../src/webhooks/events.js'

const bodyValidators = new Map(WEBHOOK_BODY_SCHEMAS.map(({ type, schema }) => [type as string, Compile(schema)]))

for (const mode of ['memory', 'redis'] as const) {
  test(`message.stored is signed and verifies (${mode} queue)`, async (t) => {
    const receiver = await startReceiver(t)
    const secret = newWebhookSecret()
    const { url, http } = await listen(t, {
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SECRET: secret,
      ...(mode === 'redis' ? { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() } : {})
    })
    const client = await connect(t, `${url}/ws/lobby`)
    t.equal((await client.request({ type: 'message', room: 'lobby', data: { text: 'hello' }, key: 'k-1' })).type, 'ack')
    const res = await fetch(`${http}/rooms/lobby/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: 'from the backend' }) })
    t.equal(res.status, 201)
    const posted = await res.json() as { messageId: string, offset: number, epoch: string }
    // A transient message is not stored: no event (the API message above, sent later, is the marker).
    client.send({ type: 'message', room: 'lobby', data: 'fleeting', transient: true })

    await eventually(() => receiver.ofType('message.stored').length >= 2)
    const wh = new Webhook(secret)
    t.ok(receiver.ofType('member.joined').length > 0, 'presence events too')
    for (const r of receiver.received) {
      t.doesNotThrow(() => wh.verify(r.body, r.headers as Record<string, string>), 'verifies with standardwebhooks')
      t.equal(r.headers['webhook-id'], r.json.id, 'webhook-id is the body\'s id')
      t.ok(bodyValidators.get(r.json.type)?.Check(r.json), `${r.json.type} matches its published schema`)
      t.equal(r.headers['content-type'], 'application/json')
      const tampered = r.json.type === 'message.stored' ? r.body.replace('hello', 'HELLO').replace('from the backend', 'from someone else') : r.body.replace('"room":', '"room" :')
      t.throws(() => wh.verify(tampered, r.headers as Record<string, string>), 'a tampered body fails')
    }
    const [fromSocket, fromApi] = receiver.ofType('message.stored').sort((a, b) => a.timestamp - b.timestamp)
    t.match(fromSocket, { type: 'message.stored', data: { room: 'lobby', data: { text: 'hello' }, key: 'k-1', offset: 1, from: { user: null } } })
    t.equal(typeof fromSocket.data.from.connectionId, 'string')
    t.same(fromApi.data, { room: 'lobby', messageId: posted.messageId, offset: posted.offset, epoch: posted.epoch, from: { connectionId: null, user: null }, data: 'from the backend', key: null })
    t.equal(receiver.ofType('message.stored').length, 2, 'the transient message made no event')
  })
}

test('WEBHOOK_URL without a valid WEBHOOK_SECRET refuses to start, naming the variable', async (t) => {
  t.throws(() => loadConfig({ env: false, data: { WEBHOOK_URL: 'http://127.0.0.1:1/x' } }), /WEBHOOK_SECRET/)
  t.throws(() => loadConfig({ env: false, data: { WEBHOOK_URL: 'http://127.0.0.1:1/x', WEBHOOK_SECRET: 'whsec_c2hvcnQ=' } }), /WEBHOOK_SECRET/)
  t.throws(() => loadConfig({ env: false, data: { WEBHOOK_URL: 'http://127.0.0.1:1/x', WEBHOOK_SECRET: newWebhookSecret(), WEBHOOK_EVENTS: 'room.vacated,nope' } }), /WEBHOOK_EVENTS.*nope/)
  t.doesNotThrow(() => loadConfig({ env: false, data: { WEBHOOK_URL: 'http://127.0.0.1:1/x', WEBHOOK_SECRET: newWebhookSecret(), WEBHOOK_EVENTS: 'message.stored, room.vacated' } }))
})
