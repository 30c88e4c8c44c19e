import t from 'tap'
import { connect, listen } from './helper.js'

t.test('a message reaches the room', async t => {
  const { url } = await listen(t)
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws/general`)
  a.send({ type: 'message', room: 'general', data: 'hi' })
  const got = await b.next('message')
  t.equal(got.data, 'hi')
})
