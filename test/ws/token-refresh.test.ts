/**
 * Token expiry and refresh over real sockets with short-lived tokens signed here: a socket is
 * closed with 4001 when its token's `exp` passes, unless a `refresh` brought a valid token for the
 * same `sub` first; the new token's rooms and scope apply from then on.
 */
import t from 'tap'
import { ChatClient } from '../../src/client/index.js'
import { connect, listen } from '../helper.js'
import { AUTH_CONFIG, expInSec, sign } from '../helpers/auth-tokens.js'

/**
 * The short tokens' life: 3 to 4 s (exp is whole seconds, rounded up). A loaded machine may take
 * a second or more to open a socket and answer a frame, and each token must outlive that.
 */
const SHORT_SEC = 3

t.test('a socket whose token expires is closed with 4001 at its exp', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  const exp = expInSec(SHORT_SEC)
  const client = await connect(t, `${url}/ws/general?access_token=${sign({ sub: 'ada', exp })}`)
  const long = await connect(t, `${url}/ws/general?access_token=${sign({ sub: 'bob' })}`)
  const code = await client.closed
  t.equal(code, 4001)
  t.ok(Date.now() >= exp * 1000, 'not before exp')
  t.equal((await long.request({ type: 'ping' })).type, 'pong', 'a socket with a longer token stays open')
})

t.test('a refresh before exp keeps the socket past the old exp, and sets the new expiry', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  const oldExp = expInSec(SHORT_SEC)
  const client = await connect(t, `${url}/ws/general?access_token=${sign({ sub: 'ada', exp: oldExp })}`)
  const newExp = oldExp + SHORT_SEC
  const refreshed = await client.request({ type: 'refresh', token: sign({ sub: 'ada', exp: newExp }) })
  t.match(refreshed, { type: 'refreshed', exp: newExp })
  // Wait well past the old exp: the socket must still answer.
  await new Promise(resolve => setTimeout(resolve, oldExp * 1000 - Date.now() + 500))
  t.equal(client.closeCode, null, 'still open after the old exp')
  t.equal((await client.request({ type: 'ping' })).type, 'pong')
  t.equal(await client.closed, 4001, 'closed at the new exp')
  t.ok(Date.now() >= newExp * 1000)
})

t.test('a token for another sub is forbidden, an invalid one unauthorized; the old expiry stands', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  const exp = expInSec(SHORT_SEC)
  const client = await connect(t, `${url}/ws?access_token=${sign({ sub: 'ada', exp })}`)
  const other = await client.request({ type: 'refresh', token: sign({ sub: 'eve', exp: exp + 60 }) })
  t.match(other, { type: 'error', code: 'forbidden' })
  const forged = await client.request({ type: 'refresh', token: sign({ sub: 'ada' }, { secret: 'not-the-secret-0123456789abcdef' }) })
  t.match(forged, { type: 'error', code: 'unauthorized', message: /signature/ })
  const expired = await client.request({ type: 'refresh', token: sign({ sub: 'ada' }, { expiresInSec: -10 }) })
  t.match(expired, { type: 'error', code: 'unauthorized', message: /expired/ })
  t.match(await client.request({ type: 'refresh', token: '' }), { type: 'error', code: 'bad_frame' })
  t.equal(await client.closed, 4001, 'the first token\'s exp still closes it')
})

t.test('the new token\'s rooms and scope apply: rooms no longer allowed are left', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  const token = sign({ sub: 'ada', rooms: ['a', 'b'], scope: 'chat:broadcast' })
  const client = await connect(t, `${url}/ws/a?room=b&access_token=${token}`)
  t.equal((await client.request({ type: 'broadcast', data: 1 })).type, 'ack', 'broadcast allowed at first')

  const refreshed = await client.request({ type: 'refresh', token: sign({ sub: 'ada', rooms: ['a', 'c'] }) })
  t.equal(refreshed.type, 'refreshed')
  t.same(client.frames.filter(f => f.type === 'left'), [{ type: 'left', room: 'b' }], 'b is left, a is kept')
  const leftAt = client.frames.findIndex(f => f.type === 'left')
  t.ok(leftAt < client.frames.indexOf(refreshed), '`left` comes before `refreshed`')
  t.match(await client.request({ type: 'broadcast', data: 2 }), { type: 'error', code: 'forbidden' }, 'the scope is gone')
  t.match(await client.request({ type: 'join', room: 'b' }), { type: 'error', code: 'forbidden' })
  t.match(await client.request({ type: 'join', room: 'c' }), { type: 'joined', room: 'c' })
  t.match(await client.request({ type: 'message', room: 'a', data: 'still here' }), { type: 'ack' })
})

t.test('with auth off a refresh is answered with exp null', async t => {
  const { url } = await listen(t)
  const client = await connect(t, `${url}/ws`)
  t.same(await client.request({ type: 'refresh', token: 'anything' }), { type: 'refreshed', exp: null, id: client.frames.at(-1).id })
})

t.test('the typed client asks its token function again ahead of exp and stays connected', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  let issued = 0
  const firstExp = expInSec(SHORT_SEC)
  const chat = new ChatClient({
    url: `${url}/ws`,
    rooms: ['general'],
    // Each token lives 3 to 4 s; the client must renew it ahead of each exp (at least 1 s ahead,
    // its own margin) over the socket it has.
    token: async () => sign({ sub: 'ada', exp: issued++ === 0 ? firstExp : expInSec(SHORT_SEC) })
  })
  t.teardown(() => chat.close())
  const closes: number[] = []
  chat.on('close', (e) => closes.push(e.code))
  await chat.connect()
  await new Promise(resolve => setTimeout(resolve, firstExp * 1000 - Date.now() + 1200))
  t.same(closes, [], 'never disconnected')
  t.ok(issued >= 2, `the token function was asked again (${issued} times)`)
  t.match(await chat.send('general', 'after the first exp'), { type: 'ack' })
})
