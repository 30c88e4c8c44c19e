/**
 * Global broadcast needs `chat:broadcast` in the `scope` claim: a space-separated string, matched
 * as a whole word, case-sensitive. Without it the frame is answered `forbidden`.
 */
import t from 'tap'
import { connect, listen } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'

const { url } = await listen(t, AUTH_CONFIG)

const allowed: Array<[string, string]> = [
  ['the scope alone', 'chat:broadcast'],
  ['among other scopes', 'chat:read chat:broadcast chat:write']
]

for (const [name, scope] of allowed) {
  t.test(`broadcast allowed: ${name}`, async t => {
    const listener = await connect(t, `${url}/ws`, bearer(sign({ sub: 'listener' })))
    const sender = await connect(t, `${url}/ws`, bearer(sign({ sub: 'frank', scope })))
    const ack = await sender.request({ type: 'broadcast', data: 'hello all' })
    t.equal(ack.type, 'ack')
    const got = await listener.next('broadcast')
    t.match(got, { data: 'hello all', messageId: ack.messageId, from: { user: 'frank' } })
  })
}

const refused: Array<[string, Record<string, unknown>]> = [
  ['no scope claim', {}],
  ['an empty scope', { scope: '' }],
  ['other scopes only', { scope: 'chat:read chat:write' }],
  ['another case', { scope: 'Chat:Broadcast' }],
  ['a longer word', { scope: 'chat:broadcaster' }],
  ['a shorter word', { scope: 'chat:broad' }],
  ['a comma list', { scope: 'chat:read,chat:broadcast' }]
]

for (const [name, claims] of refused) {
  t.test(`broadcast forbidden: ${name}`, async t => {
    const listener = await connect(t, `${url}/ws`, bearer(sign({ sub: 'listener' })))
    const sender = await connect(t, `${url}/ws`, bearer(sign({ sub: 'gina', ...claims })))
    const reply = await sender.request({ type: 'broadcast', data: 'nope' })
    t.match(reply, { type: 'error', code: 'forbidden' })
    // The socket stays open, and the listener's next broadcast is a later, allowed one.
    t.equal((await sender.request({ type: 'ping' })).type, 'pong')
    const admin = await connect(t, `${url}/ws`, bearer(sign({ sub: 'admin', scope: 'chat:broadcast' })))
    admin.send({ type: 'broadcast', data: 'later' })
    t.equal((await listener.next('broadcast')).data, 'later')
  })
}

t.test('the scope does not widen the rooms claim', async t => {
  const client = await connect(t, `${url}/ws`, bearer(sign({ sub: 'hal', scope: 'chat:broadcast', rooms: ['general'] })))
  t.match(await client.request({ type: 'join', room: 'random' }), { type: 'error', code: 'forbidden' })
  t.equal((await client.request({ type: 'broadcast', data: 'ok' })).type, 'ack')
})
