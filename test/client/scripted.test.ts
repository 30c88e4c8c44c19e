/**
 * The typed client against a scripted server, for what the real one cannot be made to do on
 * demand: member events that overtake the presence answer they postdate, and a device clock ahead
 * of the server's by more than a token's lifetime.
 */
import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { ChatClient, MIN_REFRESH_INTERVAL_MS, RoomPresence, refreshDelayMs } from '../../src/client/index.js'
import { reply, scriptedServer } from './helpers/scripted-server.js'

interface Teardown { teardown: (fn: () => unknown) => void }

function client (t: Teardown, url: string, opts: Partial<ConstructorParameters<typeof ChatClient>[0]> = {}): ChatClient {
  const chat = new ChatClient({ url, reconnect: false, ...opts })
  t.teardown(() => chat.close())
  return chat
}

const member = (connectionId: string) => ({ connectionId, user: null })

t.test('presence: events that arrive before an older list are applied on top of it, not wiped', async t => {
  // The list was read before x joined and y left; both events overtake the answer.
  const server = await scriptedServer(t, (socket, frame) => {
    if (frame.type !== 'presence') return
    reply(socket, { type: 'member_joined', room: 'r', member: member('x') })
    reply(socket, { type: 'member_left', room: 'r', member: member('y') })
    reply(socket, { type: 'presence', room: 'r', count: 2, members: [member('me'), member('y')], id: frame.id })
  })
  const chat = client(t, server.url)
  await chat.connect()
  const people = new RoomPresence(chat, 'r', { resyncMs: 0 })
  t.teardown(() => people.stop())
  await people.refresh()
  t.same([...people.members.keys()].sort(), ['me', 'x'], 'x joined, y left: neither undone by the older list')
  t.equal(people.count, 2)
})

t.test('presence: an event already in the list is not counted twice', async t => {
  const server = await scriptedServer(t, (socket, frame) => {
    if (frame.type !== 'presence') return
    reply(socket, { type: 'presence', room: 'r', count: 2, members: [member('me'), member('x')], id: frame.id })
    reply(socket, { type: 'member_joined', room: 'r', member: member('x') })
  })
  const chat = client(t, server.url)
  await chat.connect()
  const people = new RoomPresence(chat, 'r', { resyncMs: 0 })
  t.teardown(() => people.stop())
  const event = new Promise(resolve => chat.once('member_joined', resolve))
  await people.refresh()
  await event
  t.equal(people.count, 2)
  t.same([...people.members.keys()].sort(), ['me', 'x'])
})

t.test('presence: the list is read again every resyncMs, correcting a missed event', async t => {
  let reads = 0
  const server = await scriptedServer(t, (socket, frame) => {
    if (frame.type !== 'presence') return
    reads++
    // The first list misses z (its member_joined was lost); the next ones have it.
    reply(socket, { type: 'presence', room: 'r', count: reads === 1 ? 1 : 2, members: reads === 1 ? [member('me')] : [member('me'), member('z')], id: frame.id })
  })
  const chat = client(t, server.url)
  await chat.connect()
  const people = new RoomPresence(chat, 'r', { resyncMs: 100 })
  t.teardown(() => people.stop())
  await people.refresh()
  t.notOk(people.members.has('z'))
  await Promise.race([new Promise(resolve => people.once('change', resolve)), sleep(5000)])
  t.ok(people.members.has('z'), 'corrected by the next read')
})

t.test('refresh: a device clock ahead by more than the token\'s lifetime does not spin', async t => {
  const realNow = Date.now.bind(Date)
  const exp = Math.floor(realNow() / 1000) + 3600
  const server = await scriptedServer(t, (socket, frame) => {
    if (frame.type === 'refresh') reply(socket, { type: 'refreshed', exp, id: frame.id })
    if (frame.type === 'ping') reply(socket, { type: 'pong', id: frame.id })
  })
  // Tokens valid for an hour by the server's clock; the device thinks it is two hours later.
  const token = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
  Date.now = () => realNow() + 2 * 3600_000
  t.teardown(() => { Date.now = realNow })
  for (const [name, claims] of [['without iat', { sub: 'u', exp }], ['with iat', { sub: 'u', exp, iat: exp - 3600 }]] as const) {
    const chat = client(t, server.url, { token: async () => token(claims) })
    await chat.connect()
    const before = server.frames.filter(f => f.type === 'refresh').length
    // Without iat: after 1 s, then 2 s later (the wait doubles); with it: an hour later.
    await sleep(2500)
    t.equal((await chat.ping()).type, 'pong', `${name}: the connection works`)
    const refreshes = server.frames.filter(f => f.type === 'refresh').length - before
    t.ok(refreshes <= (name === 'with iat' ? 0 : 1), `${name}: ${refreshes} refreshes in 2.5 s (old: one per round trip)`)
    await chat.close()
  }
})

t.test('refreshDelayMs: the server\'s answer against its arrival; a floor on the rate', async t => {
  const now = 1_000_000_000_000
  const exp = now / 1000 + 3600
  t.equal(refreshDelayMs(exp, now), 3600_000 - 60_000, 'a right clock: a minute before exp')
  t.equal(refreshDelayMs(exp, now + 7200_000, 3600_000), 3600_000 - 60_000, 'clock two hours ahead, lifetime known: by the lifetime')
  t.equal(refreshDelayMs(exp, now + 7200_000), MIN_REFRESH_INTERVAL_MS, 'clock ahead, lifetime unknown: the floor')
  t.equal(refreshDelayMs(exp, now + 3600_000 - 100), MIN_REFRESH_INTERVAL_MS, 'nearly expired: the floor, not zero')
})
