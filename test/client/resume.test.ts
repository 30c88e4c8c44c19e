/**
 * The typed client over a server restart: it reconnects, rejoins each room with its last position,
 * gets what it missed replayed (`recovered`), or is told it cannot (`gap`), and every send settles
 * exactly once, stored once, even when its socket dropped before the ack.
 */
import t from 'tap'
import WebSocket from 'ws'
import { buildApp, type ConfigInput } from '../../src/app.js'
import { ChatClient, type RoomResumeEvent } from '../../src/client/index.js'
import type { SocketConstructor } from '../../src/client/socket.js'
import type { MessageFrame } from '../../src/client/types.js'
import { connect, PREFIX } from '../helper.js'
import { freePort, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** The next event of that name (the client's emitter is not a Node EventEmitter). */
function nextEvent<K extends 'close' | 'recovered' | 'gap'> (chat: ChatClient, event: K) {
  return new Promise<Parameters<Parameters<typeof chat.on<K>>[1]>[0]>(resolve => chat.once(event, resolve))
}

/** An app on a fixed port, so that a restarted one is found at the same URL. */
async function serveOn (t: Teardown, port: number, config: ConfigInput) {
  const app = await buildApp({ config: { WS_RATE_LIMIT_PER_SEC: 0, LOG_LEVEL: 'silent', ...config } })
  t.teardown(() => app.close())
  await app.listen({ port, host: '127.0.0.1' })
  return app
}

t.test('over a restart with Redis: replay of what was missed, and unacknowledged sends stored once', async (t) => {
  const port = await freePort()
  const config = { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() }
  const url = `ws://127.0.0.1:${port}${PREFIX}`
  let server = await serveOn(t, port, config)
  const chat = new ChatClient({ url: `${url}/ws`, rooms: ['r'], reconnect: { baseMs: 50, maxMs: 200 } })
  t.teardown(() => chat.close())
  const received: MessageFrame[] = []
  chat.on('message', (m) => received.push(m))
  const resumed: Array<[string, RoomResumeEvent]> = []
  chat.on('recovered', (e) => resumed.push(['recovered', e]))
  chat.on('gap', (e) => resumed.push(['gap', e]))
  await chat.connect()
  await chat.send('r', 'first')

  // Sends in flight when the server goes down; they settle after the restart, once each.
  const inFlight = [chat.send('r', 'in-flight-1'), chat.send('r', 'in-flight-2')]
  const closed = nextEvent(chat, 'close')
  const recovered = nextEvent(chat, 'recovered')
  await server.close()
  await closed
  // Meanwhile another client on the restarted server talks in the room.
  server = await serveOn(t, port, config)
  const other = await connect(t, `${url}/ws/r`)
  await other.request({ type: 'message', room: 'r', data: 'while-away' })

  const acks = await Promise.all(inFlight)
  await recovered
  // The marker, sent last: once it is in, a late replay or duplicate would have come before it.
  await other.request({ type: 'message', room: 'r', data: 'marker' })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the marker did not arrive within 10 s')), 10_000)
    const check = () => { if (received.some(m => m.data === 'marker')) { clearTimeout(timer); resolve() } }
    chat.on('message', check)
    check()
  })
  t.same(resumed.map(([kind]) => kind), ['recovered'])
  const offsets = received.map(m => m.offset)
  t.same(offsets, [1, 2, 3, 4, 5], 'every offset once, in order')
  t.same(received.map(m => m.data).slice(0, 4).sort(), ['first', 'in-flight-1', 'in-flight-2', 'while-away'].sort(), 'nothing lost, nothing twice')
  t.equal(received[4].data, 'marker', 'then the marker')
  t.equal(new Set(acks.map(a => a.offset)).size, 2, 'each send acked with its own stored offset')
  const history = await chat.history('r')
  t.equal(history.messages.length, 5, 'stored once each')
})

t.test('over a restart without Redis: the history is gone, the client is told (gap)', async (t) => {
  const port = await freePort()
  const url = `ws://127.0.0.1:${port}${PREFIX}`
  const server = await serveOn(t, port, {})
  const chat = new ChatClient({ url: `${url}/ws`, rooms: ['r'], reconnect: { baseMs: 50, maxMs: 200 } })
  t.teardown(() => chat.close())
  await chat.connect()
  const before = await chat.send('r', 'kept in memory only')
  const gap = nextEvent(chat, 'gap')
  await server.close()
  await serveOn(t, port, {})
  const event = await gap
  t.equal(event.room, 'r')
  t.not(event.epoch, before.epoch, 'a new epoch')
  t.equal(event.offset, 0)
  t.same(chat.positions.get('r'), { offset: 0, epoch: event.epoch }, 'the client follows the new history')
})

t.test('a send stored but whose ack was lost is written again after the reconnect: acked as the first, stored and delivered once', async (t) => {
  const port = await freePort()
  const url = `ws://127.0.0.1:${port}${PREFIX}`
  await serveOn(t, port, { REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() })
  // The server stored the message and sent its ack; the link dies before the client reads it.
  let lostAck: any = null
  const LosesFirstAck = class extends WebSocket {
    addEventListener (type: string, listener: (event: any) => void): void {
      if (type !== 'message') return super.addEventListener(type as 'open', listener)
      super.addEventListener('message', (event: { data: unknown }) => {
        const frame = JSON.parse(String(event.data))
        if (lostAck === null && frame.type === 'ack' && typeof frame.offset === 'number') {
          lostAck = frame
          this.terminate()
          return
        }
        listener(event)
      })
    }
  } as unknown as SocketConstructor
  const chat = new ChatClient({ url: `${url}/ws`, rooms: ['r'], WebSocket: LosesFirstAck, reconnect: { baseMs: 20, maxMs: 20 } })
  t.teardown(() => chat.close())
  const received: MessageFrame[] = []
  chat.on('message', (m) => received.push(m))
  const closes: number[] = []
  chat.on('close', (e) => closes.push(e.code))
  await chat.connect()
  const watcher = await connect(t, `${url}/ws/r`)

  const ack = await chat.send('r', 'stored once')
  t.ok(lostAck !== null, 'the first ack was lost')
  t.equal(closes.length, 1, 'the socket dropped once')
  t.match(ack, { type: 'ack', offset: lostAck.offset, epoch: lostAck.epoch, messageId: lostAck.messageId }, 'acked as the stored one after the resend')
  // The marker, last: anything delivered twice would come before it.
  await chat.send('r', 'marker')
  await watcher.next(f => f.type === 'message' && f.data === 'marker')
  t.same(watcher.frames.filter(f => f.type === 'message').map(f => [f.data, f.offset]), [['stored once', 1], ['marker', 2]],
    'a member elsewhere got it once')
  t.same((await chat.history('r')).messages.map(m => (m as MessageFrame).data), ['stored once', 'marker'], 'stored once')
  t.same(received.filter(m => m.data === 'stored once').length, 1, 'the sender got it once too (live or replayed)')
})
