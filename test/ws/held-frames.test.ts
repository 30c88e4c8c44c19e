/**
 * The bound on frames held behind a pending join: 4 MiB, past which the socket is closed with
 * 1008. The socket stops reading while frames are held, so through Node's own reads (64 KiB at a
 * time) a client never gets near it; the bound is for a read that carries more (an embedding
 * host's server, another transport). Such a read is made here: one chunk of masked client frames
 * handed to the server side of a real socket, as its `data`, while its join waits on a slow Redis.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import WebSocket from 'ws'
import type { Socket } from 'node:net'
import { Client, eventually, listen } from '../helper.js'
import { slowProxy, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

const MAX_HELD_BYTES = 4 * 1024 * 1024 // src/ws/session.ts
const PAD = 'x'.repeat(1000)

/** One masked text frame (the mask is zero, so the payload stays readable), as a client sends it. */
function clientFrame (text: string): Buffer {
  const payload = Buffer.from(text)
  if (payload.length < 126 || payload.length > 0xffff) throw new Error('frames of 126 to 65535 bytes only')
  const header = Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff, 0, 0, 0, 0])
  return Buffer.concat([header, payload])
}

/** Pings of about 1 KiB each, numbered, whose payloads add up to more than `bytes`. */
function pings (bytes: number): { chunk: Buffer, count: number } {
  const frames: Buffer[] = []
  let total = 0
  while (total <= bytes) {
    const frame = clientFrame(JSON.stringify({ type: 'ping', id: `${frames.length}:${PAD}` }))
    frames.push(frame)
    total += frame.length - 8
  }
  return { chunk: Buffer.concat(frames), count: frames.length }
}

/** An app whose joins wait on a Redis 300 ms away, a client of it, and its socket on the server side. */
async function joiningClient (t: any): Promise<{ client: Client, serverSocket: Socket }> {
  const redis = await slowProxy(t, TEST_REDIS_URL, 300)
  // The ~4 MiB of pongs the held pings get are written in one turn: above the default slow-consumer
  // bound (1 MiB) once uncorked, whatever the client reads. That bound is not under test here.
  const { app, url } = await listen(t, { REDIS_URL: redis, REDIS_CHANNEL_PREFIX: uniquePrefix(), WS_RATE_LIMIT_PER_SEC: 0, WS_MAX_BUFFERED_BYTES: 16 * 1024 * 1024 })
  // The server side of the client's TCP connection, the only one this app gets.
  const accepted: Socket[] = []
  app.server.on('connection', (socket: Socket) => accepted.push(socket))
  const ws = new WebSocket(`${url}/ws`)
  const client = new Client(ws)
  t.teardown(() => ws.terminate())
  await client.next('welcome', 30_000)
  t.equal(accepted.length, 1)
  const serverSocket = accepted[0]
  client.send({ type: 'join', room: 'f', id: 'j' })
  // Held from the join on: the server stopped reading the socket.
  await eventually(() => serverSocket.isPaused())
  return { client, serverSocket }
}

t.test('more than 4 MiB held behind a join closes the socket with 1008', async t => {
  const { client, serverSocket } = await joiningClient(t)
  const { chunk } = pings(MAX_HELD_BYTES)
  serverSocket.emit('data', chunk)
  const closed = await Promise.race([client.closed, sleep(15_000).then(() => 'still open after 15 s')])
  t.equal(closed, 1008)
  t.equal(client.frames.filter(f => f.type === 'pong').length, 0, 'none of the held frames was handled')
})

t.test('just under 4 MiB held behind a join is handled, in order, once the join is done', async t => {
  const { client, serverSocket } = await joiningClient(t)
  const { chunk, count } = pings(MAX_HELD_BYTES - 64 * 1024)
  serverSocket.emit('data', chunk)
  t.match(await client.next(f => f.id === 'j', 30_000), { type: 'joined', room: 'f' })
  await client.next(f => f.type === 'pong' && f.id === `${count - 1}:${PAD}`, 30_000)
  const pongs = client.frames.filter(f => f.type === 'pong').map(f => Number(String(f.id).split(':')[0]))
  t.same(pongs, Array.from({ length: count }, (_, i) => i), `${count} pings answered, in order, after joined`)
  t.ok(client.frames.findIndex(f => f.id === 'j') < client.frames.findIndex(f => f.type === 'pong'), 'joined first')
  await sleep(0)
  t.equal(client.closeCode, null, 'still open')
})
