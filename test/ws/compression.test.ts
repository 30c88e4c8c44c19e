/**
 * Compression (WS_COMPRESSION): real `ws` clients with and without permessage-deflate against one
 * app. What the server writes is read on each client's TCP socket (RSV1, sizes), beside ws.
 */
import t from 'tap'
import { createRequire } from 'node:module'
import WebSocket from 'ws'
import { Client, listen } from '../helper.js'
import { chatData, tappedClient, type TappedClient } from '../helpers/deflate-clients.js'
import { scrape, valueOf } from '../helpers/prometheus.js'
import { tapWire } from '../helpers/wire-tap.js'
import { deflateCount } from '../../src/hub/deflate-frame.js'

const MIN_BYTES = 1024
const CONFIG = { WS_COMPRESSION: true, WS_COMPRESSION_MIN_BYTES: MIN_BYTES, WS_RATE_LIMIT_PER_SEC: 0, WS_JOIN_RATE_PER_SEC: 0 }

/** The delivered frame of the message tagged `tag`, and the wire frame that carried it. */
async function receive (c: TappedClient, tag: string) {
  const frame = await c.client.next(f => f.type === 'message' && f.data?.tag === tag)
  return { frame, wire: wireOf(c, frame) }
}

/**
 * The wire frame that carried `frame`: the tap reads the bytes no later than ws does (ws inflates
 * asynchronously), and data frames come in the order the client records them.
 */
function wireOf (c: TappedClient, frame: unknown) {
  const data = c.wire.frames.filter(f => f.opcode === 1)
  return data[c.client.frames.indexOf(frame)]
}

// ws's permessage-deflate (exported by its CommonJS entry): every compression it runs goes through
// `_compress`, which also makes its per-socket zlib stream. Counted on the server side only.
const { PerMessageDeflate } = createRequire(import.meta.url)('ws') as { PerMessageDeflate: { prototype: Record<string, any> } }
let wsServerCompressions = 0
const wsCompress = PerMessageDeflate.prototype._compress
PerMessageDeflate.prototype._compress = function (this: { _isServer: boolean }, ...args: unknown[]) {
  if (this._isServer) wsServerCompressions++
  return wsCompress.apply(this, args)
}

t.test('one message reaches compressed and plain sockets alike, compressed once for all of them', async t => {
  const { app, url } = await listen(t, CONFIG)
  const room = `r${Math.random().toString(36).slice(2, 8)}`
  const zipped = await Promise.all([1, 2, 3, 4, 5].map(() => tappedClient(t, `${url}/ws/${room}`, true)))
  const plain = await Promise.all([1, 2].map(() => tappedClient(t, `${url}/ws/${room}`, false)))
  const everyone = [...zipped, ...plain]

  await t.test('the 101 negotiates no context takeover, and only with clients that offered it', async t => {
    for (const c of zipped) {
      t.match(c.extensions, /^permessage-deflate/, 'negotiated')
      t.match(c.extensions, /server_no_context_takeover/)
      t.match(c.extensions, /client_no_context_takeover/)
    }
    for (const c of plain) t.equal(c.extensions, undefined, 'not offered, not negotiated')
  })

  await t.test('a 3 KiB chat message: identical everywhere, RSV1 and smaller on the compressed sockets', async t => {
    const before = deflateCount()
    const ack = await plain[0].client.request({ type: 'message', room, data: chatData(3 * 1024, 7) })
    const got = await Promise.all(everyone.map(c => receive(c, 'm7')))
    t.equal(deflateCount() - before, 1, 'deflated once for 5 compressed sockets')
    for (const { frame } of got) {
      t.same(frame, got[0].frame, 'the same frame on every socket')
      t.equal(frame.messageId, ack.messageId)
    }
    const plainBytes = got[5].wire.bytes
    for (const { wire } of got.slice(0, 5)) {
      t.equal(wire.rsv1, true, 'compressed frame')
      t.ok(wire.bytes < plainBytes * 0.6, `${wire.bytes} bytes on the wire against ${plainBytes} plain`)
    }
    for (const { wire } of got.slice(5)) t.equal(wire.rsv1, false, 'plain frame to a socket that did not offer it')
  })

  await t.test('a frame under WS_COMPRESSION_MIN_BYTES stays plain on every socket', async t => {
    const before = deflateCount()
    await zipped[0].client.request({ type: 'message', room, data: { tag: 'small', text: 'hi' } })
    const got = await Promise.all(everyone.map(c => receive(c, 'small')))
    for (const { wire } of got) t.equal(wire.rsv1, false)
    t.equal(deflateCount(), before, 'nothing compressed')
  })

  await t.test('a compressed client message (client_no_context_takeover) is inflated, again and again', async t => {
    // ws's client compresses its sends of 1024 bytes or more: these arrive with RSV1.
    for (const seed of [11, 12, 13]) {
      zipped[1].client.send({ type: 'message', room, data: chatData(2 * 1024, seed) })
      const got = await Promise.all(everyone.map(c => receive(c, `m${seed}`)))
      t.equal(got[0].frame.data.text, chatData(2 * 1024, seed).text, `message ${seed} intact`)
      t.same(got[6].frame, got[0].frame)
    }
  })

  await t.test('replies are valid on a compressed socket: a large history answer compressed, errors plain', async t => {
    const history = await zipped[2].client.request({ type: 'history', room })
    t.ok(history.messages.length >= 5, 'stored messages come back')
    t.equal(wireOf(zipped[2], history).rsv1, true, 'a reply past the threshold is compressed for this socket')
    const error = await zipped[2].client.request({ type: 'nope' })
    t.equal(error.code, 'unknown_type')
    t.equal(wireOf(zipped[2], error).rsv1, false, 'small error frame plain')
  })

  await t.test('ws never compressed a send of ours (no per-socket zlib stream)', async t => {
    t.equal(wsServerCompressions, 0)
  })

  await t.test('chat_api_bytes_sent_total counts the bytes on the wire, after compression', async t => {
    const marker = await plain[1].client.request({ type: 'message', room, data: { tag: 'last' } })
    await Promise.all(everyone.map(c => receive(c, 'last')))
    t.ok(marker.messageId)
    const onWire = everyone.reduce((sum, c) => sum + c.wire.bytes, 0)
    t.equal(valueOf(await scrape(app), 'chat_api_bytes_sent_total'), onWire, `${onWire} bytes read by the clients`)
  })
})

t.test('a decompression bomb is refused by the frame size limit (1009), a compressed frame under it is not', async t => {
  const { url } = await listen(t, { ...CONFIG, WS_MAX_MESSAGE_BYTES: 16 * 1024 })
  const c = await tappedClient(t, `${url}/ws/bomb`, true)
  // Under the limit once inflated: accepted.
  const fits = await c.client.request({ type: 'message', room: 'bomb', data: { tag: 'fits', text: 'a'.repeat(12 * 1024) } })
  t.equal(fits.type, 'ack')
  // 4 MiB of one letter deflates to a few KiB: only the inflated size can refuse it.
  c.client.ws.send(JSON.stringify({ type: 'message', room: 'bomb', data: 'a'.repeat(4 * 1024 * 1024) }), { compress: true })
  t.equal(await c.client.closed, 1009)
})

t.test('WS_COMPRESSION=false (the default) never negotiates', async t => {
  const { url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: 0 })
  const offered = await tappedClient(t, `${url}/ws/off`, true)
  t.equal(offered.extensions, undefined, 'no Sec-WebSocket-Extensions in the 101')
  t.equal(offered.client.ws.extensions, '')
  const before = deflateCount()
  await offered.client.request({ type: 'message', room: 'off', data: chatData(3 * 1024, 3) })
  const { wire } = await receive(offered, 'm3')
  t.equal(wire.rsv1, false)
  t.ok(wire.bytes > 3 * 1024, 'sent whole')
  t.equal(deflateCount(), before)
  t.equal(wsServerCompressions, 0)
})

t.test('a client that asks for a smaller server window gets plain frames, and is not refused', async t => {
  const { url } = await listen(t, CONFIG)
  const ws = new WebSocket(`${url}/ws/small-window`, { perMessageDeflate: { serverMaxWindowBits: 10 } })
  t.teardown(() => { ws.terminate() })
  const client = new Client(ws)
  const tapped = { client, wire: tapWire(ws), extensions: undefined }
  await client.next('welcome')
  t.equal(ws.extensions, 'permessage-deflate', 'negotiated: the client may still compress its sends')
  await client.request({ type: 'message', room: 'small-window', data: chatData(3 * 1024, 5) })
  const { wire } = await receive(tapped, 'm5')
  t.equal(wire.rsv1, false, 'our window is 15 bits: plain frames for this socket')
})
