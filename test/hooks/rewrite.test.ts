/**
 * A publish hook's `data` replaces the message's before it is numbered and stored: across two
 * instances with Redis, what is stored, acknowledged and delivered everywhere is the rewrite. A
 * rewrite larger than WS_MAX_MESSAGE_BYTES is refused, even with HOOK_FAILURE=open.
 */
import t from 'tap'
import { connect } from '../helper.js'
import { TEST_REDIS_URL, clusterApp, uniquePrefix } from '../redis-helper.js'
import { hookSecret, hookServer } from '../helpers/hook-server.js'

const MAX_MESSAGE_BYTES = 4096

t.test('the rewrite is what every instance stores and delivers', async t => {
  const hooks = await hookServer(t, ({ body }) => {
    if (body.data === 'grow') return { body: { allow: true, data: 'x'.repeat(MAX_MESSAGE_BYTES + 1) } }
    const text = typeof body.data?.text === 'string' ? body.data.text.replaceAll('darn', '****') : undefined
    return { body: text === undefined ? { allow: true } : { allow: true, data: { text, moderated: true } } }
  })
  const { secret } = hookSecret()
  const prefix = uniquePrefix()
  const config = { HOOK_URL: hooks.url, HOOK_SECRET: secret, HOOK_EVENTS: 'publish', HOOK_FAILURE: 'open', WS_MAX_MESSAGE_BYTES: MAX_MESSAGE_BYTES }
  const one = await clusterApp(t, TEST_REDIS_URL, prefix, config)
  const two = await clusterApp(t, TEST_REDIS_URL, prefix, config)
  const room = `rewrite-${prefix}`
  const alice = await connect(t, `${one.url}/ws/${room}`)
  const bob = await connect(t, `${two.url}/ws/${room}`)

  const ack = await alice.request({ type: 'message', room, data: { text: 'well darn it' } })
  t.match(ack, { type: 'ack', offset: 1 })
  const rewritten = { text: 'well **** it', moderated: true }
  t.same((await bob.next('message')).data, rewritten, 'the other instance delivers the rewrite')
  t.same((await alice.next('message')).data, rewritten, 'the sender gets the rewrite too')

  // Stored as rewritten: the history (read through the other instance) and a `since` replay.
  const history = await bob.request({ type: 'history', room })
  t.same(history.messages.map((m: any) => m.data), [rewritten])
  const late = await connect(t, `${two.url}/ws`)
  late.send({ type: 'join', room, since: { offset: 0, epoch: ack.epoch } })
  t.same((await late.next('message')).data, rewritten, 'replayed as rewritten')

  // The server API's messages are rewritten the same way.
  const api = await fetch(`${two.http}/rooms/${room}/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ data: { text: 'darn' } })
  })
  t.equal(api.status, 201)
  t.same((await alice.next(f => f.type === 'message' && f.offset === 2)).data, { text: '****', moderated: true })

  // Too large to deliver: refused, not let through as sent (open would otherwise allow), no offset used.
  const tooLarge = await alice.request({ type: 'message', room, data: 'grow' })
  t.match(tooLarge, { type: 'error', code: 'rejected', reason: /WS_MAX_MESSAGE_BYTES/ })
  t.match(await alice.request({ type: 'message', room, data: 'after' }), { type: 'ack', offset: 3 })
  await bob.next(f => f.type === 'message' && f.data === 'after')
  t.same(bob.frames.filter(f => f.type === 'message').map(f => f.offset), [1, 2, 3])
  const metrics = await (await fetch(`${one.http}/metrics`)).text()
  t.match(metrics, /chat_api_hook_failures_total\{hook="publish"\} 1\b/)
})
