/**
 * user.online / user.offline are cluster-wide truths (auth on): a user's first socket makes one
 * user.online, a second one on another instance none; a reconnect within WEBHOOK_VACATED_DELAY_MS
 * makes no pair; the last close makes user.offline after the delay, with lastSeen as the status
 * endpoint has it; a SIGKILLed instance's users go offline within PRESENCE_TTL_SEC plus the delay.
 * Each absence is paired with a later positive marker (the user.offline of a later close).
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { once } from 'node:events'
import { connect, eventually, listen, type Client } from '../helper.js'
import { AUTH_CONFIG, bearer, sign } from '../helpers/auth-tokens.js'
import type { WebhookReceiver } from '../helpers/webhook-receiver.js'
import { randomName } from '../read-state/helpers.js'
import { eventReceiver, eventsAbout, survivorAndDoomed } from './helpers.js'

interface Teardown { teardown: (fn: () => unknown) => void }

const DELAY_MS = 2000
/** A user's user.* events as received (acknowledged), in the order they happened. */
const userEvents = (receiver: WebhookReceiver, user: string): any[] => eventsAbout(receiver, 'user.', 'user', user)
const types = (events: any[]): string[] => events.map(e => e.type)

async function socketOf (t: Teardown, base: string, user: string): Promise<Client> {
  const client = await connect(t, `${base}/ws`, bearer(sign({ sub: user })))
  client.ws.on('error', () => {})
  return client
}

async function close (client: Client): Promise<number> {
  const closed = once(client.ws, 'close')
  client.ws.close()
  await closed
  return Date.now()
}

async function status (http: string, user: string): Promise<any> {
  const res = await fetch(`${http}/users/${encodeURIComponent(user)}/status`, { headers: bearer(sign({ sub: 'observer' })), signal: AbortSignal.timeout(5000) })
  return res.json()
}

for (const mode of ['memory', 'redis'] as const) {
  test(`first socket: user.online; reconnect within the delay: no pair; last close: user.offline with lastSeen (${mode})`, async (t) => {
    const { receiver, config } = await eventReceiver(t, DELAY_MS, mode)
    const { url, http } = await listen(t, { ...AUTH_CONFIG, HTTP_RATE_LIMIT_PER_MIN: 0, ...config })
    const user = randomName('user')
    const first = await socketOf(t, url, user)
    await eventually(() => userEvents(receiver, user).length === 1)
    t.same(userEvents(receiver, user)[0].data, { user }, 'user.online {user}')

    await close(first)
    // The close is recorded (offline in the status) before the same user comes back.
    await eventually(async () => (await status(http, user)).online === false)
    const again = await socketOf(t, url, user)
    // Past the first close's check.
    await sleep(DELAY_MS * 1.5)
    // The server records the close between these two times (its socket's close may come after the client's).
    const closing = Date.now()
    await close(again)
    await eventually(async () => (await status(http, user)).online === false)
    const closed = Date.now()
    await eventually(() => userEvents(receiver, user).length === 2, DELAY_MS + 10_000)
    const events = userEvents(receiver, user)
    t.same(types(events), ['user.online', 'user.offline'], 'one online, one offline: the reconnect made none')
    const off = events[1]
    const seen = await status(http, user)
    t.equal(off.data.lastSeen, seen.lastSeen, 'lastSeen as the status endpoint has it')
    t.ok(off.data.lastSeen >= closing && off.data.lastSeen <= closed, `lastSeen ${off.data.lastSeen - closing} ms after the close began, ${closed - off.data.lastSeen} ms before the status said offline`)
    t.ok(off.timestamp >= off.data.lastSeen + DELAY_MS, `user.offline ${off.timestamp - off.data.lastSeen} ms after lastSeen (delay ${DELAY_MS} ms)`)
  })
}

test('a second socket of the user on another instance: no second user.online; its first socket closing: no user.offline', async (t) => {
  const { receiver, config } = await eventReceiver(t, DELAY_MS)
  const one = await listen(t, { ...AUTH_CONFIG, HTTP_RATE_LIMIT_PER_MIN: 0, ...config })
  const two = await listen(t, { ...AUTH_CONFIG, HTTP_RATE_LIMIT_PER_MIN: 0, ...config })
  const user = randomName('user')
  const a = await socketOf(t, one.url, user)
  await eventually(() => userEvents(receiver, user).length === 1)
  const b = await socketOf(t, two.url, user)
  await eventually(async () => (await status(one.http, user)).connections === 2)
  await close(a)
  await eventually(async () => (await status(one.http, user)).connections === 1)
  // Past the check the first close would have queued, were it counted as the last.
  await sleep(DELAY_MS * 1.5)
  const closedAt = await close(b)
  await eventually(() => userEvents(receiver, user).length === 2, DELAY_MS + 10_000)
  const events = userEvents(receiver, user)
  t.same(types(events), ['user.online', 'user.offline'], 'one online for two sockets on two instances, one offline after the last')
  t.ok(events[1].timestamp >= closedAt + DELAY_MS - 100, 'offline once the delay after the last close had passed')
  t.equal(receiver.ofType('user.online').length, 1, 'no other user.online at all')
})

test('a SIGKILLed instance\'s only-user sockets: user.offline within PRESENCE_TTL_SEC + the delay, lastSeen about the kill', async (t) => {
  const { receiver, config } = await eventReceiver(t, DELAY_MS)
  const TTL_SEC = 3
  const TTL_MS = TTL_SEC * 1000
  const { survivor, doomed } = await survivorAndDoomed(t, { ...AUTH_CONFIG, HTTP_RATE_LIMIT_PER_MIN: 0, ...config, PRESENCE_TTL_SEC: TTL_SEC })
  const victim = randomName('victim')
  const both = randomName('both')
  await socketOf(t, doomed.ws, victim)
  await socketOf(t, doomed.ws, victim)
  await socketOf(t, doomed.ws, both)
  const stays = await socketOf(t, survivor.ws, both)
  await eventually(() => userEvents(receiver, victim).length === 1 && userEvents(receiver, both).length === 1)
  // At least one renewal after the connects, so the leases are not the connects' own writes.
  await sleep(TTL_MS / 5 + 100)

  const killedAt = Date.now()
  await doomed.stop('SIGKILL')
  await eventually(() => userEvents(receiver, victim).length === 2, TTL_MS + DELAY_MS + 20_000)
  const events = userEvents(receiver, victim)
  t.same(types(events), ['user.online', 'user.offline'], 'one online, one offline')
  const off = events[1]
  // Received, not just raised: the bound includes a poll (0.5 s) and a send; slack for a loaded machine.
  const after = receiver.received.find(r => r.json.id === off.id)!.at - killedAt
  t.ok(after <= TTL_MS + DELAY_MS + 2000, `user.offline ${after} ms after the kill (PRESENCE_TTL_SEC + delay: ${TTL_MS + DELAY_MS} ms, + 2 s slack)`)
  t.ok(off.data.lastSeen >= killedAt - TTL_MS && off.data.lastSeen <= killedAt, `lastSeen ${off.data.lastSeen - killedAt} ms from the kill`)
  t.equal(off.data.lastSeen, (await status(survivor.http, victim)).lastSeen, 'lastSeen as the status endpoint has it')

  // The user with a socket on the survivor stayed online: its only user.offline follows its last close.
  const closedAt = await close(stays)
  await eventually(() => userEvents(receiver, both).length === 2, DELAY_MS + 10_000)
  t.same(types(userEvents(receiver, both)), ['user.online', 'user.offline'])
  t.ok(userEvents(receiver, both)[1].timestamp >= closedAt + DELAY_MS - 100, 'its user.offline came after its survivor socket closed, not at the kill')
})
