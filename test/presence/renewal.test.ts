/**
 * A heartbeat renews every local lease, RENEW_BATCH leases of many rooms per script call, and keeps
 * at most RENEW_IN_FLIGHT calls in flight (src/presence/renewal.ts).
 *
 * Why both: one call per room cost Redis more in the call than in its leases (10 000 rooms on an
 * instance were 10 000 scripts a beat, beyond a Redis sharing 2 cores at 100 000 idle sockets), and
 * commands on one connection run in the order sent: with every renewal sent at once, whatever the
 * instance sent next (an append, a history read) ran after all of them, past the command deadline.
 *
 * Measured on Redis's side: an INFO commandstats sent on presence's own connection right after the
 * heartbeat began runs after exactly the script calls sent before it, and says how many that was.
 */
import t from 'tap'
import { RENEW_BATCH, RENEW_IN_FLIGHT } from '../../src/presence/renewal.js'
import { eventually } from '../helper.js'
import { commandCallsIn, scriptCalls, scriptCallsOf } from '../helpers/command-stats.js'
import { conn, presenceOnOwnRedis } from './helpers/own-redis.js'

// Twice the leases the calls in flight hold: the heartbeat's last calls wait for the first ones.
const ROOMS = 2 * RENEW_IN_FLIGHT * RENEW_BATCH
const CALLS = ROOMS / RENEW_BATCH

t.test(`a heartbeat over ${ROOMS} rooms: ${CALLS} calls, and another command waits behind at most ${RENEW_IN_FLIGHT}`, async (t) => {
  const { presence, admin, layout } = await presenceOnOwnRedis(t, e => e.type)
  for (let i = 0; i < ROOMS; i++) presence.joined(conn(`c${i}`), `room-${i}`)
  await eventually(async () => await admin.exists(layout.presenceLeases(`room-${ROOMS - 1}`)) === 1)
  const leaseOf = async (i: number): Promise<number> => Number(await admin.zscore(layout.presenceLeases(`room-${i}`), `c${i}`))
  const before = [await leaseOf(0), await leaseOf(ROOMS / 2), await leaseOf(ROOMS - 1)]
  await new Promise(resolve => setTimeout(resolve, 20))
  await admin.call('CONFIG', 'RESETSTAT')

  const renewal = presence.renew(true, 6000)
  // Sent on presence's connection after whatever the heartbeat sent synchronously.
  const ranBefore = scriptCallsOf(commandCallsIn(await presence.client.info('commandstats')))
  await renewal

  t.ok(ranBefore <= RENEW_IN_FLIGHT, `renewal calls that ran before a command sent after the heartbeat began: ${ranBefore} (at most ${RENEW_IN_FLIGHT}; all ${CALLS} when they went at once)`)
  t.ok(ranBefore > 0, 'the heartbeat had begun')
  t.equal(await scriptCalls(admin), CALLS, `${RENEW_BATCH} rooms' leases per call (one call per room made ${ROOMS})`)
  const after = [await leaseOf(0), await leaseOf(ROOMS / 2), await leaseOf(ROOMS - 1)]
  t.ok(after.every((lease, i) => lease > before[i]), 'the first, a middle and the last room\'s leases were pushed back')
  t.equal(presence.stats().reasserted, 0, 'no lease found missing')
})

t.test('a member who leaves during the heartbeat is not written back by it', async (t) => {
  const { presence, admin, layout, events } = await presenceOnOwnRedis(t, e => `${e.type} ${e.member.connectionId}`)
  for (let i = 0; i < ROOMS; i++) presence.joined(conn(`c${i}`), `room-${i}`)
  await eventually(async () => await admin.exists(layout.presenceLeases(`room-${ROOMS - 1}`)) === 1)

  const renewal = presence.renew(true, 6000)
  // The last room's call is not built yet (only RENEW_IN_FLIGHT calls are): its member leaves now.
  presence.left(conn(`c${ROOMS - 1}`), `room-${ROOMS - 1}`)
  await renewal
  await eventually(() => events.includes(`member_left c${ROOMS - 1}`))
  t.equal(await admin.zscore(layout.presenceLeases(`room-${ROOMS - 1}`), `c${ROOMS - 1}`), null, 'its lease is gone')
  t.equal(await admin.hexists(layout.presence(`room-${ROOMS - 1}`), `c${ROOMS - 1}`), 0, 'and so is its presence entry')
  t.equal(events.filter(e => e === `member_joined c${ROOMS - 1}`).length, 1, 'announced joined once, never again by the renewal')
})

t.test('a room bigger than a call is split over calls, and every lease in it is renewed', async (t) => {
  const { presence, admin, layout } = await presenceOnOwnRedis(t, e => e.type)
  const big = 2 * RENEW_BATCH + 10
  for (let i = 0; i < big; i++) presence.joined(conn(`b${i}`), 'big')
  for (let i = 0; i < 20; i++) presence.joined(conn(`s${i}`), `small-${i}`)
  await eventually(async () => await admin.zcard(layout.presenceLeases('big')) === big && await admin.exists(layout.presenceLeases('small-19')) === 1)
  const leases = async (): Promise<Map<string, number>> => {
    const flat = await admin.zrange(layout.presenceLeases('big'), 0, -1, 'WITHSCORES')
    const byId = new Map<string, number>()
    for (let i = 0; i < flat.length; i += 2) byId.set(flat[i], Number(flat[i + 1]))
    return byId
  }
  const before = await leases()
  await new Promise(resolve => setTimeout(resolve, 20))
  await admin.call('CONFIG', 'RESETSTAT')
  await presence.renew(true, 6000)

  const after = await leases()
  t.equal(after.size, big, 'no lease lost')
  t.equal([...after].filter(([id, lease]) => lease > (before.get(id) ?? Infinity)).length, big, 'each pushed back')
  t.equal(await scriptCalls(admin), Math.ceil((big + 20) / RENEW_BATCH), 'as few calls as the leases fill')
  t.equal(presence.stats().reasserted, 0, 'none found missing')
})

t.test('a room whose keys Redis refuses fails alone: the other rooms of its call are renewed and told their news', async (t) => {
  const { presence, admin, layout, events } = await presenceOnOwnRedis(t, e => `${e.type} ${e.member.connectionId}`)
  for (const room of ['a', 'broken', 'c']) presence.joined(conn(`${room}1`), room)
  await eventually(async () => await admin.exists(layout.presenceLeases('c')) === 1)
  // Another instance's member of room c whose lease ran out; room broken's hash is now a string.
  await admin.zadd(layout.presenceLeases('c'), 1, 'gone')
  await admin.hset(layout.presence('c'), 'gone', JSON.stringify({ connectionId: 'gone', user: null }))
  await admin.del(layout.presence('broken'))
  await admin.set(layout.presence('broken'), 'not a hash')
  await admin.zrem(layout.presenceLeases('a'), 'a1')
  await admin.hdel(layout.presence('a'), 'a1')

  await t.rejects(presence.renew(true, 6000), /room broken .*WRONGTYPE/, 'the heartbeat says which room failed')
  t.equal(await admin.hexists(layout.presence('a'), 'a1'), 1, 'room a\'s missing lease is written again')
  t.equal(presence.stats().reasserted, 1, 'and counted')
  t.equal(await admin.zscore(layout.presenceLeases('c'), 'gone'), null, 'room c\'s expired lease is removed')
  await eventually(() => events.includes('member_left gone') && events.filter(e => e === 'member_joined a1').length === 2)
  t.equal(presence.stats().expired, 1, 'and counted')
})
