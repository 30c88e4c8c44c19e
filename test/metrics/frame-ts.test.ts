/** The lag histogram reads `ts` straight from the frame bytes: the server's, never the client's. */
import t from 'tap'
import { frameTs } from '../../src/metrics/frame-ts.js'

t.test('the last "ts": of the frame is the server\'s, whatever the client put in data', async t => {
  const frame = Buffer.from('{"type":"message","room":"r","data":{"ts":1,"x":"\\"ts\\":2"},"from":{"connectionId":null,"user":null},"messageId":"m","ts":1700000000123}')
  t.equal(frameTs(frame), 1700000000123)
  t.equal(frameTs(Buffer.from('{"type":"message","data":1,"ts":1700000000456,"offset":3,"epoch":"e"}')), 1700000000456, 'fields after ts')
  t.equal(frameTs(Buffer.from('{"type":"broadcast","data":1}')), -1, 'no ts')
  t.equal(frameTs(Buffer.from('{"type":"broadcast","ts":}')), -1, 'no digits')
})
