/**
 * A `since` replay far larger than WS_MAX_BUFFERED_BYTES is written at the reader's pace
 * (src/hub/paced-replay.ts), read from Redis a page at a time: a client that reads slowly gets all
 * of it, in order, then the messages sent during its replay, with no gap or repeat, and is not
 * closed; one that never reads is closed with 1013 once it took nothing for REPLAY_STALL_MS. In
 * both cases the server never buffers more for the socket than the bound plus one frame: that is
 * measured on the server's side of the socket, all along the replay.
 */
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import type { FastifyInstance } from 'fastify'
import type { Socket } from 'node:net'
import { Client, connect, eventually, PREFIX } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { JOINER_HELD_BYTES, REPLAY_STALL_MS } from '../../src/hub/paced-replay.js'

const BOUND = 128 * 1024
/** 240 messages of 50 KB: a 12 MB replay, 94 times the bound and far past what loopback's kernel buffers take, 24 pages of Redis's 512 KiB. */
const MESSAGES = 240
const DATA = 'x'.repeat(50 * 1024)
/** Sent while the slow reader's replay runs: past JOINER_HELD_BYTES, so those held are dropped and read back. */
const LIVE = Math.ceil(JOINER_HELD_BYTES / DATA.length) + 4
/** A frame is the data plus the message's other fields, well under 1 KB. */
const FRAME_MAX = DATA.length + 1024

async function setUp (t: Test) {
  const { app, url } = await clusterApp(t, TEST_REDIS_URL, uniquePrefix(), { WS_MAX_BUFFERED_BYTES: BOUND, HISTORY_SIZE: 10 * MESSAGES })
  const talker = await connect(t, `${url}/ws`)
  const { epoch } = await talker.request({ type: 'join', room: 'big' })
  // One at a time: the talker reads its own messages too and must not become a slow consumer.
  for (let i = 0; i < MESSAGES; i++) await talker.request({ type: 'message', room: 'big', data: DATA })
  const connections = async (): Promise<number> => (await app.inject(`${PREFIX}/ws/stats`)).json().connections
  return { app, url, talker, epoch: epoch as string, connections }
}

/**
 * The most the server held unsent for the next TCP connection it accepts (what ws's
 * `bufferedAmount` counts), sampled every 5 ms until `stop()`.
 */
function watchBuffered (app: FastifyInstance): { stop: () => number } {
  let max = 0
  let socket: Socket | null = null
  app.server.once('connection', (accepted: Socket) => { socket = accepted })
  const timer = setInterval(() => { max = Math.max(max, socket?.writableLength ?? 0) }, 5)
  return { stop: () => { clearInterval(timer); return max } }
}

/** A client that has its welcome, then stops reading: it reads when told to. */
async function pausedClient (t: Test, url: string): Promise<{ client: Client, raw: any }> {
  const ws = new WebSocket(`${url}/ws`)
  const client = new Client(ws)
  t.teardown(() => ws.terminate())
  await client.next('welcome')
  const raw = (ws as any)._socket
  raw.pause()
  return { client, raw }
}

t.test('a slow reader gets a replay far past the bound, in order, then live messages, and stays open', async t => {
  const { app, url, talker, epoch } = await setUp(t)
  const buffered = watchBuffered(app)
  const { client: reader, raw } = await pausedClient(t, url)
  reader.send({ type: 'join', room: 'big', since: { epoch, offset: 0 }, id: 'j' })
  // Reads a little now and then: 2 ms of reading every 50 ms.
  let slow = true
  const reading = setInterval(() => { raw.resume(); setTimeout(() => { if (slow) raw.pause() }, 2) }, 50)
  t.teardown(() => clearInterval(reading))
  // While the replay runs, the room goes on: more than a joiner may hold meanwhile.
  await reader.next(f => f.type === 'message' && f.offset === 1, 60_000)
  for (let i = 0; i < LIVE; i++) await talker.request({ type: 'message', room: 'big', data: DATA })
  const marker = await talker.request({ type: 'message', room: 'big', data: 'marker' })
  const joined = await reader.next('joined', 120_000)
  await reader.next(f => f.type === 'message' && f.offset === marker.offset, 120_000)
  clearInterval(reading)
  slow = false
  raw.resume()
  const max = buffered.stop()

  t.match(joined, { type: 'joined', room: 'big', epoch, recovered: true })
  // Past MESSAGES when the live messages overflowed what a joiner holds and the replay read them too.
  t.ok(joined.offset >= MESSAGES && joined.offset <= marker.offset, `joined at ${joined.offset}, after the replay`)
  const offsets = reader.frames.filter(f => f.type === 'message').map(f => f.offset)
  t.same(offsets, Array.from({ length: marker.offset }, (_, i) => i + 1), 'every message once, in order, across replay and live')
  const replayed = reader.frames.findIndex(f => f.type === 'joined')
  t.equal(reader.frames.slice(0, replayed).filter(f => f.type === 'message').length, joined.offset, 'the replay up to `joined`, then live')
  t.equal(reader.closeCode, null, 'not closed')
  t.match(await reader.request({ type: 'ping' }), { type: 'pong' }, 'still served')
  t.ok(max <= BOUND + FRAME_MAX, `the server never held more than the bound and a frame for it (${max} bytes)`)
})

t.test('a client that never reads its replay is closed with 1013, the server holding no more than the bound', async t => {
  const { app, url, epoch, connections } = await setUp(t)
  const buffered = watchBuffered(app)
  const { client: quiet, raw } = await pausedClient(t, url)
  quiet.send({ type: 'join', room: 'big', since: { epoch, offset: 0 }, id: 'j' })
  // Only the replay can fill it: past the kernel's buffers, the server's fill to the bound and
  // stay there; REPLAY_STALL_MS later it is a slow consumer.
  const sentAt = Date.now()
  await eventually(async () => await connections() === 1, REPLAY_STALL_MS + 20_000)
  const closedAfter = Date.now() - sentAt
  const max = buffered.stop()
  t.ok(closedAfter >= REPLAY_STALL_MS, `not before REPLAY_STALL_MS (${closedAfter} ms)`)
  t.ok(max <= BOUND + FRAME_MAX, `the server never held more than the bound and a frame for it (${max} bytes)`)
  raw.resume()
  t.equal(await quiet.closed, 1013, 'closed as a slow consumer')
  const got = quiet.frames.filter(f => f.type === 'message').length
  t.ok(got < MESSAGES, `it was sent part of the replay only (${got} of ${MESSAGES})`)
  t.notOk(quiet.frames.some(f => f.type === 'joined'), 'and no `joined`')
})
