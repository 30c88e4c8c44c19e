/**
 * The typed client treats an epoch change on a live message as a gap: Redis restarted empty, the
 * server keeps the socket open and the next message arrives in a new epoch; the client emits `gap`
 * (before that message) without any reconnect.
 */
import t from 'tap'
import { ChatClient, type RoomResumeEvent } from '../../src/client/index.js'
import type { MessageFrame } from '../../src/client/types.js'
import { connect, eventually } from '../helper.js'
import { clusterApp, statsOf, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

t.test('a new epoch on a live message is a `gap`, with no reconnect', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const { app, url } = await clusterApp(t, redis.url, uniquePrefix())
  const chat = new ChatClient({ url: `${url}/ws`, rooms: ['r'], reconnect: { baseMs: 50, maxMs: 200 } })
  t.teardown(() => chat.close())
  const events: Array<[string, unknown]> = []
  chat.on('message', (m: MessageFrame) => events.push(['message', m.data]))
  chat.on('gap', (e: RoomResumeEvent) => events.push(['gap', e]))
  chat.on('close', ({ code }) => events.push(['close', code]))
  await chat.connect()
  const first = await chat.send('r', 'before')
  await eventually(() => events.length === 1)

  await redis.stop()
  await eventually(async () => (await statsOf(app)).redis === 'reconnecting', 5000)
  await redis.start() // without its data
  await eventually(async () => (await statsOf(app)).redis === 'connected', 10000)
  const sender = await connect(t, `${url}/ws/r`)
  const after = await sender.request({ type: 'message', room: 'r', data: 'after' })
  t.not(after.epoch, first.epoch)
  await eventually(() => events.some(([kind, data]) => kind === 'message' && data === 'after'), 10000)
  t.same(events, [
    ['message', 'before'],
    ['gap', { room: 'r', offset: 1, epoch: after.epoch }],
    ['message', 'after']
  ], 'the gap, then the message of the new epoch; no close')
})
