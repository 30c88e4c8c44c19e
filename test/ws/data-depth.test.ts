// The nesting bound of `data` is chat-api's own, so every Node answers a frame the same way
// (JSON.stringify's stack overflows near 10 000 levels on Node 20 and 24, not at all on 26).
import t from 'tap'
import { MAX_DATA_DEPTH } from '../../src/serialise-data.js'
import { connect, listen } from '../helper.js'

const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth)

t.test(`data nesting ${MAX_DATA_DEPTH} levels is delivered; one more is bad_frame`, async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const c = await connect(t, `${url}/ws/deep`)
  c.send(`{"type":"message","room":"deep","data":${nested(MAX_DATA_DEPTH)},"id":1}`)
  t.match(await c.next('ack'), { id: 1 })
  t.equal(JSON.stringify((await c.next('message')).data), nested(MAX_DATA_DEPTH))

  c.send(`{"type":"message","room":"deep","data":${nested(MAX_DATA_DEPTH + 1)},"id":2}`)
  t.match(await c.next('error'), { code: 'bad_frame', id: 2, message: `data nests deeper than ${MAX_DATA_DEPTH} levels` })
  c.send(`{"type":"broadcast","data":{"a":${nested(MAX_DATA_DEPTH)}},"id":3}`)
  t.match(await c.next('error'), { code: 'bad_frame', id: 3 }, 'objects count as levels too')
})

t.test('brackets inside strings are not nesting', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const c = await connect(t, `${url}/ws/deep`)
  const text = '[{'.repeat(MAX_DATA_DEPTH * 2) + '\\"' + ']'.repeat(10)
  c.send(JSON.stringify({ type: 'message', room: 'deep', data: [text, { text }], id: 1 }))
  t.match(await c.next('ack'), { id: 1 })
  t.same((await c.next('message')).data, [text, { text }])
})
