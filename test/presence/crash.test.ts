/**
 * The crash case with real processes: an instance with members is killed with SIGKILL (no
 * shutdown, nothing removed from Redis). Within PRESENCE_TTL_SEC its connections leave every
 * presence list and `/cluster`, and each remaining member gets exactly one `member_left` per lost
 * connection and room, though every live instance cleans up.
 *
 * Convergence must come from time alone: the second test also does by hand what a cleaner that
 * crashed half-way would have left behind (the dead instance taken off the instance list, nothing
 * else done), and then kills the instance that is cleaning up, in the middle of it.
 *
 * The bounds are the contract's (PRESENCE_TTL_SEC from the kill), not what a quiet machine measured.
 */
import { test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { connect, type Client } from '../helper.js'
import { adminClient, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { startInstances, type Instance } from '../e2e/helpers/instances.js'

const TTL_SEC = 4
const TTL_MS = TTL_SEC * 1000
/** How long the cluster may take to list everyone after the start (processes on a loaded machine). */
const SETTLE_MS = 20_000

/** Any JSON body, for the assertions to look into. */
const getJson = async (url: string): Promise<any> => (await fetch(url, { signal: AbortSignal.timeout(5000) })).json()
const leftOf = (client: Client) => client.frames.filter(f => f.type === 'member_left').map(f => `${f.room} ${f.member.connectionId}`).sort()
const idOf = (client: Client) => client.frames[0].connectionId as string
const instanceIds = async (instance: Instance) => ((await getJson(`${instance.http}/cluster`)).instances as Array<{ instanceId: string }>)
  .map(i => i.instanceId).sort()

/** Polls until `done` holds; the ms it took from `since`, or -1 past `limitMs`. */
async function convergence (since: number, limitMs: number, done: () => Promise<boolean>): Promise<number> {
  while (Date.now() - since < limitMs) {
    if (await done()) return Date.now() - since
    await sleep(50)
  }
  return -1
}

test('SIGKILL of an instance with members: lists and /cluster converge within the TTL, one member_left per lost connection', async (t) => {
  const [one, two, doomed] = await startInstances(t, 3, {
    REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix(), PRESENCE_TTL_SEC: TTL_SEC, WS_RATE_LIMIT_PER_SEC: 0
  })
  const a = await connect(t, `${one.ws}/ws/r1?room=r2`)
  const b = await connect(t, `${two.ws}/ws/r1`)
  const lost = [await connect(t, `${doomed.ws}/ws/r1?room=r2`), await connect(t, `${doomed.ws}/ws/r1`)]
  for (const client of lost) client.ws.on('error', () => {})
  const presenceOf = async (room: string) => getJson(`${one.http}/rooms/${room}/presence`)
  // Everyone is listed, and the three instances have beaten at least once.
  t.ok(await convergence(Date.now(), SETTLE_MS, async () => (await presenceOf('r1')).count === 4 && (await instanceIds(two)).length === 3) >= 0, 'settled')
  t.equal((await presenceOf('r2')).count, 2)

  const killedAt = Date.now()
  await doomed.stop('SIGKILL')
  const convergedAfter = await convergence(killedAt, TTL_MS + 5000, async () => {
    const [r1, r2, ids] = await Promise.all([presenceOf('r1'), presenceOf('r2'), instanceIds(two)])
    return r1.count === 2 && r2.count === 1 && ids.length === 2 && leftOf(a).length === 3 && leftOf(b).length === 2
  })
  t.ok(convergedAfter >= 0, `lists, /cluster and events converged (after ${convergedAfter} ms)`)
  t.ok(convergedAfter <= TTL_MS, `within PRESENCE_TTL_SEC (${TTL_SEC} s)`)
  t.same((await presenceOf('r1')).members.map((m: { connectionId: string }) => m.connectionId).sort(), [idOf(a), idOf(b)].sort())

  // Past another TTL: a second cleaner, or a late one, would have sent its events by now. A join
  // sent after that is the marker that the events of this period have arrived.
  await sleep(TTL_MS)
  const marker = await connect(t, `${two.ws}/ws/r1`)
  await a.next(f => f.type === 'member_joined' && f.member.connectionId === idOf(marker))
  const [c1, c2] = lost.map(idOf)
  t.same(leftOf(a), [`r1 ${c1}`, `r1 ${c2}`, `r2 ${c1}`].sort(), 'a member of both rooms: one member_left per lost connection and room')
  t.same(leftOf(b), [`r1 ${c1}`, `r1 ${c2}`].sort(), 'a member of one room: one per lost connection of that room')
  t.same((await instanceIds(one)).length, 2)
})

test('a cleaner that crashed half-way and one killed while it cleans up: the lists still converge, one member_left each', async (t) => {
  const prefix = uniquePrefix()
  const [one, two, doomed] = await startInstances(t, 3, {
    REDIS_URL: TEST_REDIS_URL, REDIS_CHANNEL_PREFIX: prefix, PRESENCE_TTL_SEC: TTL_SEC, WS_RATE_LIMIT_PER_SEC: 0
  })
  const admin = adminClient(t)
  const rooms = Array.from({ length: 12 }, (_, i) => `room${i}`)
  const memberOfAll = async (instance: Instance) => {
    const client = await connect(t, `${instance.ws}/ws`)
    for (const room of rooms) t.match(await client.request({ type: 'join', room }), { type: 'joined' })
    return client
  }
  const a = await memberOfAll(one)
  const b = await memberOfAll(two)
  const lost = await memberOfAll(doomed)
  for (const client of [b, lost]) client.ws.on('error', () => {})
  const counts = async () => Promise.all(rooms.map(async room => (await getJson(`${one.http}/rooms/${room}/presence`)).count as number))
  t.ok(await convergence(Date.now(), SETTLE_MS, async () => (await counts()).every(n => n === 3) && (await instanceIds(one)).length === 3) >= 0, 'settled')
  const doomedId = (await getJson(`${doomed.http}/ws/stats`)).instanceId as string

  const killedAt = Date.now()
  await doomed.stop('SIGKILL')
  // What a cleaner killed between its claim and its clean-up leaves: the dead instance off the
  // instance list (the claim), its entries still in every room.
  await admin.zrem(`${prefix}:instances`, doomedId)
  // The clean-up has begun somewhere: kill `two`, which cleans up too, at that moment.
  await a.next('member_left', TTL_MS + 5000)
  const secondKillAt = Date.now()
  await two.stop('SIGKILL')

  const lostIds = [idOf(lost), idOf(b)]
  const convergedAfter = await convergence(secondKillAt, TTL_MS + 5000, async () =>
    (await counts()).every(n => n === 1) && leftOf(a).length === 2 * rooms.length && (await instanceIds(one)).length === 1)
  t.ok(convergedAfter >= 0, `lists, /cluster and events converged (${Date.now() - killedAt} ms after the first kill)`)
  t.ok(convergedAfter <= TTL_MS, `within PRESENCE_TTL_SEC (${TTL_SEC} s) of the second kill (${convergedAfter} ms)`)

  await sleep(TTL_MS)
  const marker = await connect(t, `${one.ws}/ws/room0`)
  await a.next(f => f.type === 'member_joined' && f.member.connectionId === idOf(marker))
  t.same(leftOf(a), rooms.flatMap(room => lostIds.map(id => `${room} ${id}`)).sort(), 'one member_left per lost connection and room')
  for (const room of rooms) {
    const listed = (await getJson(`${one.http}/rooms/${room}/presence`)).members.map((m: { connectionId: string }) => m.connectionId)
    t.same(listed.sort(), room === 'room0' ? [idOf(a), idOf(marker)].sort() : [idOf(a)], `${room} lists the live members only`)
  }
})
