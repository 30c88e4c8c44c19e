import t, { type Test } from 'tap'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import WebSocket, { WebSocketServer } from 'ws'
import { Connection } from '../../src/hub/connection.js'
import { rawStream, textFrame, WriteBatch } from '../../src/hub/frame-writer.js'
import { OutgoingFrame } from '../../src/hub/outgoing-frame.js'
import { ANONYMOUS } from '../../src/hub/principal.js'

/** A stream that records each write call it receives: single chunks and writev batches. */
function recorder () {
  const calls: string[][] = []
  const stream = new Writable({
    write (chunk, _enc, cb) { calls.push([chunk.toString()]); cb() },
    writev (chunks, cb) { calls.push(chunks.map(c => c.chunk.toString())); cb() }
  })
  return { stream, calls }
}

const nextTurn = () => new Promise(resolve => setImmediate(resolve))

// ws exports its Sender from its CommonJS entry, not in @types/ws; its framing is the reference.
type FrameOptions = { fin: boolean, rsv1: boolean, opcode: number, mask: boolean, readOnly: boolean }
const { Sender } = createRequire(import.meta.url)('ws') as { Sender: { frame (data: Buffer, opts: FrameOptions): Buffer[] } }

/** A server-side ws socket and its client, on an ephemeral port. */
async function pair (t: Test, perMessageDeflate = false) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate })
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  await once(wss, 'listening')
  const { port } = wss.address() as AddressInfo
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate })
  t.teardown(() => client.terminate())
  const [server] = await once(wss, 'connection') as [WebSocket]
  await once(client, 'open')
  const received: string[] = []
  client.on('message', (data) => received.push(data.toString()))
  return { server, client, received }
}

t.test('textFrame builds the same bytes as ws for every length encoding', async t => {
  for (const length of [0, 1, 125, 126, 65535, 65536, 70000]) {
    const payload = Buffer.alloc(length, 'a')
    const expected = Buffer.concat(Sender.frame(payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }))
    t.ok(textFrame(payload).equals(expected), `${length} bytes`)
  }
})

const IGNORE = { flushed: () => {} }

t.test('WriteBatch holds a turn\'s writes and hands them to each stream as one writev', async t => {
  const batch = new WriteBatch()
  const a = recorder()
  const b = recorder()
  // Each stream's watcher hears of it once per turn, after the uncork (the slow-consumer check).
  const told: Array<[string, number]> = []
  const watcher = (name: string) => ({ flushed: (stream: Writable) => { told.push([name, stream.writableCorked]) } })
  batch.write(a.stream, Buffer.from('1'), watcher('a'))
  batch.write(b.stream, Buffer.from('x'), watcher('b'))
  batch.write(a.stream, Buffer.from('2'), watcher('a'))
  batch.write(a.stream, Buffer.from('3'), watcher('a'))
  t.same(a.calls, [], 'nothing is written before the end of the turn')
  t.equal(a.stream.writableCorked, 1, 'corked once, however many writes')
  await nextTurn()
  t.same(a.calls, [['1', '2', '3']], 'one writev, in order')
  t.same(b.calls, [['x']])
  t.equal(a.stream.writableCorked, 0)
  t.same(told, [['a', 0], ['b', 0]], 'each watcher told once, after its stream was uncorked')

  batch.write(a.stream, Buffer.from('4'), watcher('a'))
  await nextTurn()
  t.same(a.calls, [['1', '2', '3'], ['4']], 'the next turn starts a new batch')
})

t.test('WriteBatch leaves alone a stream corked by someone else, and survives one ended meanwhile', async t => {
  const batch = new WriteBatch()
  const other = recorder()
  other.stream.cork()
  batch.write(other.stream, Buffer.from('a'), IGNORE)
  await nextTurn()
  t.equal(other.stream.writableCorked, 1, 'whoever corked it uncorks it')
  other.stream.uncork()
  t.same(other.calls, [['a']])

  const ended = recorder()
  batch.write(ended.stream, Buffer.from('last'), IGNORE)
  ended.stream.end() // end() uncorks fully: the frame goes out now
  await nextTurn()
  t.same(ended.calls, [['last']])
})

t.test('rawStream: the TCP stream of an open socket whose Sender is idle, else null', async t => {
  const { server } = await pair(t)
  const stream = rawStream(server)
  t.ok(stream, 'idle sender')
  const sender = (server as any)._sender
  sender._state = 1 // DEFLATING
  t.equal(rawStream(server), null, 'a frame being compressed')
  sender._state = 0
  sender._queue.push([])
  t.equal(rawStream(server), null, 'frames queued behind it')
  sender._queue.pop()
  sender._firstFragment = false
  t.equal(rawStream(server), null, 'inside a fragmented message')
  sender._firstFragment = true
  t.equal(rawStream({ readyState: 1 } as unknown as WebSocket), null, 'internals it does not know')
  server.close()
  t.equal(rawStream(server), null, 'closing')
})

t.test('a Connection delivers framed and plain sends in order, welcome first', async t => {
  const { server, client, received } = await pair(t)
  const conn = new Connection('c1', server, ANONYMOUS, 1 << 20)
  const shared = Buffer.from('{"n":2}')
  conn.send(Buffer.from('{"n":1}')) // held until welcome
  conn.welcome({ type: 'welcome' })
  conn.sendFramed(new OutgoingFrame(shared))
  server.send('{"n":3}') // ws's own path, e.g. a close or ping, lands in the same order
  conn.sendJson({ n: 4 })
  while (received.length < 5) await once(client, 'message')
  t.same(received, ['{"type":"welcome"}', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'])
})

t.test('while ws is compressing a frame, sends go through ws and keep their order', async t => {
  const { server, client, received } = await pair(t, true)
  const conn = new Connection('c1', server, ANONYMOUS, 1 << 20)
  conn.welcome({ type: 'welcome' })
  const big = 'z'.repeat(100_000)
  server.send(big, { compress: true }) // the Sender is DEFLATING until zlib calls back
  t.equal(rawStream(server), null, 'no direct write while compressing')
  const frame = Buffer.from('{"after":"compressed"}')
  conn.sendFramed(new OutgoingFrame(frame))
  while (received.length < 3) await once(client, 'message')
  t.same(received, ['{"type":"welcome"}', big, '{"after":"compressed"}'])
})

t.test('the slow-consumer bound: each write counts what earlier turns left unsent, not the turn in progress', async t => {
  const { server, client } = await pair(t)
  const conn = new Connection('c1', server, ANONYMOUS, 64 * 1024)
  conn.welcome({ type: 'welcome' })
  const frame = Buffer.alloc(16 * 1024, 'a')
  const wire = new OutgoingFrame(frame)
  for (let i = 0; i < 16; i++) conn.sendFramed(wire) // 256 KiB in one turn, read promptly
  t.equal(server.readyState, WebSocket.OPEN, 'a burst within one turn is not judged at its writes (its end judges it)')

  ;(client as any)._socket.pause() // stop reading: the kernel buffers fill, then ours
  const closed = once(client, 'close')
  let turns = 0
  while (server.readyState === WebSocket.OPEN && turns++ < 10_000) {
    for (let i = 0; i < 16; i++) conn.sendFramed(wire)
    await nextTurn()
  }
  ;(client as any)._socket.resume()
  const [code] = await closed
  t.equal(code, 1013)
})

t.test('the slow-consumer bound judges a turn\'s own frames once they are uncorked: a one-turn burst to a non-reader', async t => {
  const { server, client } = await pair(t)
  const conn = new Connection('c1', server, ANONYMOUS, 64 * 1024)
  conn.welcome({ type: 'welcome' })
  await nextTurn()
  ;(client as any)._socket.pause()
  const closed = once(client, 'close')
  // 8 MiB in one turn and nothing after it: no later write would ever look at it.
  const frame = Buffer.alloc(64 * 1024, 'a')
  const wire = new OutgoingFrame(frame)
  for (let i = 0; i < 128; i++) conn.sendFramed(wire)
  t.equal(server.readyState, WebSocket.OPEN, 'still open within the turn')
  await nextTurn()
  t.equal(server.readyState, WebSocket.CLOSING, 'closed at the end of the turn')
  ;(client as any)._socket.resume()
  const [code] = await closed
  t.equal(code, 1013)
})

t.test('a message\'s bytes are counted in one addition, after the loop that wrote it: each socket its own frame', async t => {
  const plain = await pair(t)
  const zipped = await pair(t, true)
  const busy = await pair(t, true)
  let additions = 0
  let total = 0
  const sent = { get bytes () { return total }, set bytes (n: number) { additions++; total = n } }
  const conns = [
    new Connection('plain', plain.server, ANONYMOUS, 1 << 20, undefined, { deflateMinBytes: Infinity, sent }),
    new Connection('zipped', zipped.server, ANONYMOUS, 1 << 20, undefined, { deflateMinBytes: 0, sent }),
    new Connection('busy', busy.server, ANONYMOUS, 1 << 20, undefined, { deflateMinBytes: 0, sent })
  ]
  for (const conn of conns) conn.welcome({ type: 'welcome' })
  await nextTurn()
  t.equal(additions, 3, 'each welcome, a message of its own, counted once')
  additions = 0
  total = 0

  const text = JSON.stringify({ text: 'chat '.repeat(400) })
  const out = new OutgoingFrame(Buffer.from(text))
  busy.server.send('z'.repeat(100_000), { compress: true }) // ws's Sender busy: this socket gets ws's own (plain) send
  for (const conn of conns) conn.sendFramed(out)
  t.equal(additions, 0, 'nothing counted while the loop runs')
  await nextTurn()
  t.equal(additions, 1, 'one addition for three recipients')
  t.ok(out.compressed().length < out.plain().length, 'the compressed frame is smaller')
  t.equal(total, 2 * out.plain().length + out.compressed().length, 'two plain frames (one through ws) and one compressed')
  for (const { client, received } of [plain, zipped, busy]) {
    while (!received.includes(text)) await once(client, 'message')
  }
  t.pass('every socket got the message')
})
