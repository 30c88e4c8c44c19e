/**
 * A `since` replay and a `history` answer count against WS_MAX_BUFFERED_BYTES like any other
 * frame, although each is written in one event-loop turn: a socket that never reads is closed
 * with 1013 instead of pinning the whole replay in the server's memory. Clients are real sockets
 * on an ephemeral port; the one that does not read has its TCP socket paused.
 */
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { Client, connect, eventually, listen, PREFIX } from '../helper.js'
import { REPLAY_STALL_MS } from '../../src/hub/paced-replay.js'

const BOUND = 256 * 1024
/** 100 messages of 60 KB: a 6 MB replay, far past the bound plus what loopback's kernel buffers take. */
const BIG_MESSAGES = 100
const BIG_DATA = 'x'.repeat(60 * 1024)
/** 20 messages of 1 KB: a replay well inside the bound. */
const SMALL_MESSAGES = 20

async function setUp (t: Test) {
  const { app, url } = await listen(t, { WS_MAX_BUFFERED_BYTES: BOUND, WS_RATE_LIMIT_PER_SEC: 0, HISTORY_SIZE: BIG_MESSAGES })
  const talker = await connect(t, `${url}/ws`)
  const big = await talker.request({ type: 'join', room: 'big' })
  const small = await talker.request({ type: 'join', room: 'small' })
  // One at a time: the talker reads its own messages too and must not become a slow consumer.
  for (let i = 0; i < BIG_MESSAGES; i++) await talker.request({ type: 'message', room: 'big', data: BIG_DATA })
  for (let i = 0; i < SMALL_MESSAGES; i++) await talker.request({ type: 'message', room: 'small', data: 'y'.repeat(1024) })
  const connections = async (): Promise<number> => (await app.inject(`${PREFIX}/ws/stats`)).json().connections
  return { url, big: big.epoch as string, small: small.epoch as string, connections }
}

/** A client that has its welcome, then stops reading: the kernel buffers fill, then the server's. */
async function nonReader (t: Test, url: string): Promise<{ client: Client, resume: () => void }> {
  const ws = new WebSocket(`${url}/ws`)
  const client = new Client(ws)
  t.teardown(() => ws.terminate())
  await client.next('welcome')
  const raw = (ws as any)._socket
  raw.pause()
  return { client, resume: () => raw.resume() }
}

t.test('a since replay to a socket that does not read is closed with 1013, the replay included', async t => {
  const { url, big, small, connections } = await setUp(t)
  // Positive marker first: a replay inside the bound reaches a reading client whole, which stays.
  const reader = await connect(t, `${url}/ws`)
  const joined = await reader.request({ type: 'join', room: 'small', since: { epoch: small, offset: 0 } })
  t.match(joined, { type: 'joined', recovered: true, offset: SMALL_MESSAGES })
  t.same(reader.frames.filter(f => f.type === 'message').map(f => f.offset), Array.from({ length: SMALL_MESSAGES }, (_, i) => i + 1))
  t.equal(await connections(), 2, 'talker and reader')

  const quiet = await nonReader(t, url)
  quiet.client.send({ type: 'join', room: 'big', since: { epoch: big, offset: 0 }, id: 'j' })
  // Nothing else is sent to that socket: only the replay can put it past the bound.
  // The replay is paced (paced-replay.ts): the non-reader is closed once it took nothing for REPLAY_STALL_MS.
  await eventually(async () => await connections() === 2, REPLAY_STALL_MS + 20_000)
  quiet.resume()
  t.equal(await quiet.client.closed, 1013, 'the non-reader is closed as a slow consumer')
  t.match(await reader.request({ type: 'ping' }), { type: 'pong' }, 'the reader is still served')
})

t.test('a history answer to a socket that does not read is closed with 1013', async t => {
  const { url, connections } = await setUp(t)
  const reader = await connect(t, `${url}/ws`)
  const page = await reader.request({ type: 'history', room: 'small', limit: 100 })
  t.equal(page.messages.length, SMALL_MESSAGES, 'a history answer inside the bound reaches a reading client')

  const quiet = await nonReader(t, url)
  // A history answer holds at most 1 MiB (the budget of "Secure by default"), which loopback's
  // kernel buffers (4 MiB here) may take whole: it asks again until the server lets it go, 64
  // answers at most (64 MiB, far past any kernel's share).
  for (let i = 0; i < 64 && await connections() === 3; i++) {
    quiet.client.send({ type: 'history', room: 'big', limit: 100, id: `h${i}` })
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  await eventually(async () => await connections() === 2, 10000)
  quiet.resume()
  t.equal(await quiet.client.closed, 1013)
  t.match(await reader.request({ type: 'ping' }), { type: 'pong' }, 'the reader is still served')
})
