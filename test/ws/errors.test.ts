import t from 'tap'
import { connect, listen } from '../helper.js'

t.test('every malformed frame gets its error code, with the id echoed where readable', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const c = await connect(t, `${url}/ws/general`)
  const cases: Array<[unknown, object]> = [
    ['{not json', { code: 'bad_json' }],
    ['[1,2]', { code: 'bad_frame' }],
    ['"text"', { code: 'bad_frame' }],
    ['null', { code: 'bad_frame' }],
    [{ id: 1 }, { code: 'bad_frame', id: 1 }],
    [{ type: 5, id: 'n' }, { code: 'bad_frame', id: 'n' }],
    [{ type: 'dance', id: 2 }, { code: 'unknown_type', id: 2 }],
    [{ type: 'join', id: 3 }, { code: 'bad_frame', id: 3 }],
    [{ type: 'join', room: 42, id: 4 }, { code: 'bad_frame', id: 4 }],
    [{ type: 'join', room: '', id: 5 }, { code: 'invalid_room', id: 5 }],
    [{ type: 'join', room: 'has space', id: 6 }, { code: 'invalid_room', id: 6 }],
    [{ type: 'join', room: 'x'.repeat(65), id: 7 }, { code: 'invalid_room', id: 7 }],
    [{ type: 'leave', room: 'a/b', id: 8 }, { code: 'invalid_room', id: 8 }],
    [{ type: 'leave', id: 9 }, { code: 'bad_frame', id: 9 }],
    [{ type: 'message', room: 'general', id: 10 }, { code: 'bad_frame', id: 10 }],
    [{ type: 'message', data: 1, id: 11 }, { code: 'bad_frame', id: 11 }],
    [{ type: 'message', room: 'no!', data: 1, id: 12 }, { code: 'invalid_room', id: 12 }],
    [{ type: 'message', room: 'random', data: 1, id: 13 }, { code: 'not_in_room', id: 13 }],
    [{ type: 'broadcast', id: 14 }, { code: 'bad_frame', id: 14 }],
    [{ type: 'leave', room: 'random', id: 15 }, { code: 'not_in_room', id: 15 }]
  ]
  for (const [frame, expected] of cases) {
    c.send(frame)
    const reply = await c.next('error')
    t.match(reply, { type: 'error', message: String, ...expected }, JSON.stringify(frame))
    if (!('id' in expected)) t.notOk('id' in reply, 'no id when none is readable')
  }
  t.match(await c.request({ type: 'ping' }), { type: 'pong' }, 'the connection stays open')
})

t.test('an id that is neither string nor number is refused and not echoed', async t => {
  const { url } = await listen(t)
  const c = await connect(t, `${url}/ws`)
  c.send({ type: 'ping', id: { nested: true } })
  const reply = await c.next('error')
  t.match(reply, { code: 'bad_frame' })
  t.notOk('id' in reply)
})

t.test('message data may be any JSON value, null included', async t => {
  const { url } = await listen(t)
  const c = await connect(t, `${url}/ws/general`)
  for (const data of [null, 0, false, '', [1, { a: [] }], { deep: { er: 'ü ✓' } }]) {
    await c.request({ type: 'message', room: 'general', data })
    t.same((await c.next('message')).data, data)
  }
})

t.test('one client\'s garbage leaves the others unaffected', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0, WS_MAX_MESSAGE_BYTES: 1024 })
  const good = await connect(t, `${url}/ws/general`)
  const bad = await connect(t, `${url}/ws/general`)
  for (const junk of ['{', '[]', '{"type":"message","room":"general"}', '\u0000\u0001', '{"type":{"a":1}}']) bad.send(junk)
  bad.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  t.equal(await bad.closed, 1003)
  const ack = await good.request({ type: 'message', room: 'general', data: 'still here' })
  t.match(ack, { type: 'ack' })
  t.match(await good.next('message'), { data: 'still here' })
  const late = await connect(t, `${url}/ws/general`)
  t.match(await late.request({ type: 'ping' }), { type: 'pong' }, 'new clients are served')
})
