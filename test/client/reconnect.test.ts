/**
 * The typed client across a reconnect, against the real server: queued sends are paced within the
 * rate limit `welcome` announces (none refused, none lost, none stored twice, no 1008), and a
 * join() asked for while disconnected is not sent beside the automatic rejoin (no spurious gap).
 */
import t from 'tap'
import { ChatClient, type ChatClientOptions, type CloseEvent } from '../../src/client/index.js'
import { listen, PREFIX } from '../helper.js'
import { serverSideDropper } from './helpers/drop.js'

interface Teardown { teardown: (fn: () => unknown) => void }

function client (t: Teardown, opts: ChatClientOptions): ChatClient {
  const chat = new ChatClient(opts)
  t.teardown(() => chat.close())
  return chat
}

const RATE = 10
/** Four times what the server's bucket (twice the rate) lets through at once. */
const QUEUED = 8 * RATE

t.test('the rate limit is in welcome; queued sends after a reconnect are paced within it', async t => {
  const { app, url } = await listen(t, { WS_RATE_LIMIT_PER_SEC: RATE })
  const drop = serverSideDropper(app)
  // Paced at RATE a second, the queue takes QUEUED / RATE seconds: the timeout leaves room for that twice over.
  const chat = client(t, { url: `${url}/ws?tag=chat`, rooms: ['r'], reconnect: { baseMs: 20, maxMs: 20 }, requestTimeoutMs: 2 * 1000 * QUEUED / RATE + 10_000 })
  const welcome = await chat.connect()
  t.equal(welcome.rateLimitPerSec, RATE, 'welcome announces WS_RATE_LIMIT_PER_SEC')
  const closes: number[] = []
  chat.on('close', (event: CloseEvent) => closes.push(event.code))

  const closed = new Promise(resolve => chat.once('close', resolve))
  drop('chat')
  await closed
  // Errors from here on: the drop itself may show as a socket_error first (Node 24 reports the reset).
  const errors: string[] = []
  chat.on('error', err => errors.push(err.code))
  // Sent while disconnected: all queued, all written after the rejoin.
  const sends = Array.from({ length: QUEUED }, (_, i) => chat.send('r', i))
  const outcomes = await Promise.allSettled(sends)
  const refused = outcomes.filter(o => o.status === 'rejected').map(o => (o as PromiseRejectedResult).reason.code)
  t.same(refused, [], 'none refused (old: rate_limited, then a 1008 close)')
  t.same(closes, [1006], 'closed once, by the drop; never 1008')
  t.same(errors, [])
  const offsets = outcomes.map(o => (o as PromiseFulfilledResult<{ offset: number }>).value.offset)
  t.same(offsets, Array.from({ length: QUEUED }, (_, i) => i + 1), 'each stored once, in order')
  const history = (await app.inject(`${PREFIX}/rooms/r/history?limit=100`)).json()
  t.same(history.messages.map((m: { data: number }) => m.data), Array.from({ length: QUEUED }, (_, i) => i), 'the history holds each exactly once')
})

t.test('a join() asked for while disconnected stands for the rejoin: no second join, no spurious gap', async t => {
  const { app, url } = await listen(t)
  const drop = serverSideDropper(app)
  const chat = client(t, { url: `${url}/ws?tag=chat`, reconnect: { baseMs: 20, maxMs: 20 } })
  const other = client(t, { url: `${url}/ws`, rooms: ['r'] })
  await chat.connect()
  await other.connect()
  await chat.join('r')
  const first = new Promise(resolve => chat.once('message', resolve))
  await other.send('r', 'before')
  await first
  const gaps: unknown[] = []
  const recovered: unknown[] = []
  chat.on('gap', event => gaps.push(event))
  chat.on('recovered', event => recovered.push(event))

  const closed = new Promise(resolve => chat.once('close', resolve))
  drop('chat')
  await closed
  const rejoined = chat.join('r') // the app joins again while the socket is down
  const reopened = new Promise(resolve => chat.once('open', resolve))
  await other.send('r', 'while away')
  t.match(await rejoined, { type: 'joined', room: 'r', recovered: true })
  await reopened
  const after = new Promise(resolve => chat.once('message', resolve))
  await other.send('r', 'after')
  t.match(await after, { data: 'after' })
  t.same(gaps, [], 'no gap: nothing was lost')
  t.equal(recovered.length, 1, 'one recovery, from one join')
  const stats = (await app.inject(`${PREFIX}/ws/stats`)).json()
  t.same(stats.rooms, { r: 2 })
})
