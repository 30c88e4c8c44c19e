/**
 * A heartbeat renews every room's leases, but keeps at most RENEW_IN_FLIGHT rooms' calls in flight
 * (src/presence/renewal.ts). Commands on one connection run in the order sent: with every
 * room's renewal sent at once, whatever the instance sent next (an append, a history read) ran
 * after all of them. At 100 000 idle sockets over 5 instances (10 000 rooms each) that was seconds
 * of Redis work, past the command deadline, and rooms' members were told to resume.
 *
 * Measured on Redis's side: an INFO commandstats sent on presence's own connection right after the
 * heartbeat began runs after exactly the script calls sent before it, and says how many that was.
 */
import t from 'tap'
import { RENEW_IN_FLIGHT } from '../../src/presence/renewal.js'
import { eventually } from '../helper.js'
import { commandCallsIn, scriptCalls, scriptCallsOf } from '../helpers/command-stats.js'
import { conn, presenceOnOwnRedis } from './helpers/own-redis.js'

const ROOMS = 1000

t.test(`a heartbeat over ${ROOMS} rooms: another command waits behind at most ${RENEW_IN_FLIGHT} renewals, and every room is renewed`, async (t) => {
  const { presence, admin, layout } = await presenceOnOwnRedis(t, e => e.type)
  for (let i = 0; i < ROOMS; i++) presence.joined(conn(`c${i}`), `room-${i}`)
  await eventually(async () => await admin.exists(layout.presenceLeases(`room-${ROOMS - 1}`)) === 1)
  const lastLease = async (): Promise<number> => Number(await admin.zscore(layout.presenceLeases(`room-${ROOMS - 1}`), `c${ROOMS - 1}`))
  const leaseBefore = await lastLease()
  await new Promise(resolve => setTimeout(resolve, 20))
  await admin.call('CONFIG', 'RESETSTAT')

  const renewal = presence.renew(true, 6000)
  // Sent on presence's connection after whatever the heartbeat sent synchronously.
  const ranBefore = scriptCallsOf(commandCallsIn(await presence.client.info('commandstats')))
  await renewal

  t.ok(ranBefore <= RENEW_IN_FLIGHT, `renewals that ran before a command sent after the heartbeat began: ${ranBefore} (at most ${RENEW_IN_FLIGHT}; all ${ROOMS} when every room's went at once)`)
  t.ok(ranBefore > 0, 'the heartbeat had begun')
  t.equal(await scriptCalls(admin), ROOMS, 'one renewal per room, no room left out')
  t.ok(await lastLease() > leaseBefore, 'the last room\'s lease was pushed back')
  t.equal(presence.stats().reasserted, 0, 'no lease found missing')
})

t.test('a member who leaves during the heartbeat is not written back by it', async (t) => {
  const { presence, admin, layout, events } = await presenceOnOwnRedis(t, e => `${e.type} ${e.member.connectionId}`)
  for (let i = 0; i < ROOMS; i++) presence.joined(conn(`c${i}`), `room-${i}`)
  await eventually(async () => await admin.exists(layout.presenceLeases(`room-${ROOMS - 1}`)) === 1)

  const renewal = presence.renew(true, 6000)
  // The last room's renewal is not sent yet (only RENEW_IN_FLIGHT rooms are): its member leaves now.
  presence.left(conn(`c${ROOMS - 1}`), `room-${ROOMS - 1}`)
  await renewal
  await eventually(() => events.includes(`member_left c${ROOMS - 1}`))
  t.equal(await admin.zscore(layout.presenceLeases(`room-${ROOMS - 1}`), `c${ROOMS - 1}`), null, 'its lease is gone')
  t.equal(await admin.hexists(layout.presence(`room-${ROOMS - 1}`), `c${ROOMS - 1}`), 0, 'and so is its presence entry')
  t.equal(events.filter(e => e === `member_joined c${ROOMS - 1}`).length, 1, 'announced joined once, never again by the renewal')
})
