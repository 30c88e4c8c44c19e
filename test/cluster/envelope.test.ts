import { randomUUID } from 'node:crypto'
import { test } from 'tap'
import { EnvelopeCodec, OWN_ECHO } from '../../src/hub/redis-envelope.js'
import { redisLayout } from '../../src/redis/layout.js'
import { connect } from '../helper.js'
import { adminClient, clusterApp, statsOf, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

test('an envelope carries the origin and the frame bytes untouched', async (t) => {
  const a = new EnvelopeCodec(randomUUID())
  const b = new EnvelopeCodec(randomUUID())
  const frame = Buffer.from('{"type":"message","data":"é"}')
  const sealed = a.seal(frame)

  t.equal(a.open(sealed), OWN_ECHO, 'the sender recognises its own echo')
  const opened = b.open(sealed) as Buffer
  t.ok(opened.equals(frame))
  t.equal(opened.buffer, sealed.buffer, 'the frame is a view of the payload, not a copy')

  t.equal(b.open(Buffer.alloc(0)), null, 'empty')
  t.equal(b.open(sealed.subarray(0, 37)), null, 'no frame')
  t.equal(b.open(Buffer.from(`${randomUUID()}|{}`)), null, 'wrong separator')
  t.equal(b.open(Buffer.from(`${randomUUID()}\nnot json`)), null, 'not a JSON object')
  t.throws(() => new EnvelopeCodec('short'), /instanceId must be 36 bytes/)
})

test('channel and key names come from the prefix, the room in a hash tag', async (t) => {
  const layout = redisLayout('chat-api')
  t.equal(layout.all, 'chat-api:all')
  t.equal(layout.control, 'chat-api:control')
  t.equal(layout.roomOf('chat-api:control'), null)
  t.equal(layout.room('general'), 'chat-api:room:{general}')
  t.equal(layout.roomOf('chat-api:room:{a:b}'), 'a:b', 'room names may hold colons')
  t.equal(layout.roomOf('chat-api:room:{}'), null)
  t.equal(layout.roomOf('chat-api:room:{general'), null)
  t.equal(layout.roomOf('other:room:{general}'), null)
  t.equal(layout.roomOf('chat-api:all'), null)
  t.equal(layout.meta('general'), 'chat-api:{general}:meta')
  t.equal(layout.log('general'), 'chat-api:{general}:log')
  t.equal(layout.messageKey('general', 'k{1}'), 'chat-api:{general}:key:k{1}', 'the first braces are the tag')
})

test('on a cluster a room\'s channel and keys share its slot, and every channel is sharded (the global ones too: a classic PUBLISH crosses the cluster bus, best-effort)', async (t) => {
  const layout = redisLayout('chat-api', 'SPUBLISH')
  for (const room of ['general', 'a:b', 'r0', 'r1']) {
    const slot = layout.slot(layout.room(room))
    t.same([layout.meta(room), layout.log(room), layout.messageKey(room, 'k{1}')].map(layout.slot), [slot, slot, slot], room)
    t.equal(layout.sharded(layout.room(room)), true)
  }
  t.not(layout.slot(layout.room('r0')), layout.slot(layout.room('r1')), 'rooms spread over slots')
  t.equal(layout.slot('chat-api:room:{general}'), 9981, 'the slot of `general` (CRC16 mod 16384, as CLUSTER KEYSLOT computes it)')
  t.equal(layout.sharded(layout.all), true)
  t.equal(layout.sharded(layout.control), true)
  t.equal(redisLayout('chat-api').sharded(redisLayout('chat-api').room('general')), false, 'one Redis: classic pub/sub')
})

test('foreign or malformed payloads on our channels reach nobody', async (t) => {
  const prefix = uniquePrefix()
  const { app, url } = await clusterApp(t, TEST_REDIS_URL, prefix)
  const member = await connect(t, `${url}/ws/general`)
  const publisher = adminClient(t)
  const { instanceId } = await statsOf(app)
  const other = new EnvelopeCodec(randomUUID())

  await publisher.publish(`${prefix}:room:{general}`, 'garbage')
  await publisher.publish(`${prefix}:room:{general}`, Buffer.concat([Buffer.from(`${randomUUID()}\n`), Buffer.from([0xff, 0xfe])]))
  await publisher.publish(`${prefix}:all`, Buffer.from(`${instanceId}\n`))
  // Member events: no newline after the connectionId, or no frame after it.
  await publisher.publish(`${prefix}:room:{general}`, '~no-newline')
  await publisher.publish(`${prefix}:room:{general}`, `~${randomUUID()}\nnot json`)
  // Well-formed, but claiming to come from the instance itself: dropped as its own echo.
  await publisher.publish(`${prefix}:room:{general}`, new EnvelopeCodec(instanceId).seal(Buffer.from('{"type":"message","data":"echo"}')))
  await publisher.publish(`${prefix}:room:{general}`, other.seal(Buffer.from('{"type":"message","room":"general","data":"ok"}')))

  t.equal((await member.next('message')).data, 'ok', 'the instance is still serving')
  t.same(member.frames.map(f => f.type), ['welcome', 'message'])
})
