/**
 * Compression across two instances on one Redis: a message published on A reaches compressed and
 * plain sockets on A and B identically, and each instance compresses it once for its own sockets.
 */
import { test } from 'tap'
import { chatData, tappedClient, type TappedClient } from '../helpers/deflate-clients.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { deflateCount } from '../../src/hub/deflate-frame.js'

const CONFIG = { WS_COMPRESSION: true, WS_COMPRESSION_MIN_BYTES: 1024 }

/** The wire frame that carried `frame` (data frames arrive in the order the client records them). */
function wireOf (c: TappedClient, frame: unknown) {
  return c.wire.frames.filter(f => f.opcode === 1)[c.client.frames.indexOf(frame)]
}

test('two instances: compressed and plain sockets on both get the same messages', async (t) => {
  const prefix = uniquePrefix()
  const a = await clusterApp(t, TEST_REDIS_URL, prefix, CONFIG)
  const b = await clusterApp(t, TEST_REDIS_URL, prefix, CONFIG)
  const room = `c${Math.random().toString(36).slice(2, 8)}`
  const zipped = [
    await tappedClient(t, `${a.url}/ws/${room}`, true),
    await tappedClient(t, `${a.url}/ws/${room}`, true),
    await tappedClient(t, `${b.url}/ws/${room}`, true),
    await tappedClient(t, `${b.url}/ws/${room}`, true)
  ]
  const plain = [
    await tappedClient(t, `${a.url}/ws/${room}`, false),
    await tappedClient(t, `${b.url}/ws/${room}`, false)
  ]
  const everyone = [...zipped, ...plain]

  for (const seed of [1, 2, 3]) {
    const before = deflateCount()
    const sender = seed % 2 === 0 ? plain[1] : zipped[0] // from B's plain socket, and from A's compressed one
    const ack = await sender.client.request({ type: 'message', room, data: chatData(1024 + seed * 1024, seed) })
    t.equal(ack.type, 'ack')
    const got = await Promise.all(everyone.map(c => c.client.next(f => f.type === 'message' && f.data?.tag === `m${seed}`)))
    t.equal(deflateCount() - before, 2, `message ${seed}: compressed once on each instance, for its two compressed sockets`)
    for (const frame of got) t.same(frame, got[0], 'identical on every socket of both instances')
    t.equal(got[0].messageId, ack.messageId)
    const wires = everyone.map((c, i) => wireOf(c, got[i]))
    t.same(wires.map(w => w.rsv1), [true, true, true, true, false, false], 'RSV1 on the compressed sockets only')
    t.ok(wires[0].bytes < wires[4].bytes / 2, `smaller on the wire: ${wires[0].bytes} against ${wires[4].bytes}`)
    t.equal(wires[2].bytes, wires[0].bytes, 'the same compressed bytes on both instances')
  }
})
