/**
 * The typed client's read state: `markRead` sends one frame for many marks, `unread()`, the
 * `read_receipt` event, and UnreadCounts following messages and receipts without a round trip each.
 */
import t from 'tap'
import { ChatClient, UnreadCounts, type ChatClientOptions } from '../../src/client/index.js'
import { eventually, listen } from '../helper.js'
import { AUTH_CONFIG, sign } from '../helpers/auth-tokens.js'
import { scrape, valueOf } from '../helpers/prometheus.js'

interface Teardown { teardown: (fn: () => unknown) => void }

function client (t: Teardown, opts: ChatClientOptions): ChatClient {
  const chat = new ChatClient(opts)
  t.teardown(() => chat.close())
  return chat
}

t.test('markRead: 50 marks within a second are one read frame; the receipt reaches the room', async t => {
  const { app, url } = await listen(t, AUTH_CONFIG)
  const room = `marks-${Math.random().toString(36).slice(2, 8)}`
  const writer = client(t, { url: `${url}/ws`, token: sign({ sub: 'writer' }), rooms: [room] })
  const reader = client(t, { url: `${url}/ws`, token: sign({ sub: 'reader' }), rooms: [room], readDelayMs: 1000 })
  await Promise.all([writer.connect(), reader.connect()])
  for (let i = 0; i < 50; i++) await writer.send(room, i)
  const readsBefore = valueOf(await scrape(app), 'chat_api_frames_received_total', { type: 'read' })

  const receipt = new Promise<any>(resolve => writer.on('read_receipt', resolve))
  const marks = Array.from({ length: 50 }, (_, i) => reader.markRead(room, i + 1))
  const answers = await Promise.all(marks)
  t.ok(answers.every(a => a.offset === 50), 'every mark settles with the one frame\'s answer')
  t.match(await receipt, { type: 'read_receipt', room, user: 'reader', offset: 50 })
  t.equal(valueOf(await scrape(app), 'chat_api_frames_received_total', { type: 'read' }) - readsBefore, 1, 'one read frame for 50 marks')
  t.match((await reader.unread([room])).rooms, [{ room, offset: 50, readOffset: 50, unread: 0 }])
})

t.test('UnreadCounts follows messages, own messages and receipts of the user\'s other socket', async t => {
  const { url } = await listen(t, AUTH_CONFIG)
  const room = `live-${Math.random().toString(36).slice(2, 8)}`
  const writer = client(t, { url: `${url}/ws`, token: sign({ sub: 'w' }), rooms: [room] })
  const phone = client(t, { url: `${url}/ws`, token: sign({ sub: 'u' }), rooms: [room] })
  const laptop = client(t, { url: `${url}/ws`, token: sign({ sub: 'u' }), rooms: [room], readDelayMs: 10 })
  await Promise.all([writer.connect(), phone.connect(), laptop.connect()])
  const counts = new UnreadCounts(phone)
  t.teardown(() => counts.close())
  await counts.refresh([room])
  t.equal(counts.unread(room), 0)

  for (let i = 0; i < 5; i++) await writer.send(room, i)
  await eventually(() => counts.unread(room) === 5)
  // Read on the other device: its receipt clears the badge here.
  await laptop.markRead(room, 4)
  await eventually(() => counts.unread(room) === 1)
  // The user's own message: read up to it.
  await phone.send(room, 'me')
  await eventually(() => counts.rooms.get(room)?.offset === 6)
  t.equal(counts.unread(room), 0)
  // What the client counted is what the server counts.
  t.match((await phone.unread([room])).rooms, [{ offset: 6, unread: 0 }])
  await writer.send(room, 'more')
  await eventually(() => counts.unread(room) === 1)
  await counts.refresh()
  t.equal(counts.unread(room), 1, 'the server agrees')
})
