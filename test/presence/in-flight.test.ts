/**
 * Presence's calls wait for the one in flight (src/redis/turn-batch.ts `inFlight`,
 * src/presence/presence-batch.ts): the joins and leaves of the turns that pass while a call is
 * under way leave together once it is answered, so a churn of short connections costs Redis far
 * fewer calls than turns. A lone change still leaves at the end of its turn, a presence read
 * still sees every change made before it, and every change is still announced once, in order.
 * Script calls are counted with INFO commandstats on a redis-server of this test only.
 */
import t from 'tap'
import { setImmediate as turn } from 'node:timers/promises'
import { TurnBatch } from '../../src/redis/turn-batch.js'
import { eventually } from '../helper.js'
import { scriptCalls } from '../helpers/command-stats.js'
import { conn, presenceOnOwnRedis } from './helpers/own-redis.js'

t.test('TurnBatch with inFlight 1: what the turns bring meanwhile leaves in one call once the call is answered', async (t) => {
  const calls: string[][] = []
  const answers: Array<() => void> = []
  const batch = new TurnBatch<string, string>((_group, items) => {
    calls.push(items)
    return new Promise(resolve => answers.push(() => resolve(items)))
  }, { items: 100, bytes: 1 << 20, inFlight: 1 })
  const a = batch.add(0, 'a', 1)
  await turn()
  t.same(calls, [['a']], 'a lone item leaves at the end of its turn')
  const rest = ['b', 'c', 'd'].map(async (item) => {
    await turn()
    return await batch.add(0, item, 1)
  })
  for (let i = 0; i < 5; i++) await turn()
  t.same(calls, [['a']], 'nothing more leaves while the call is in flight')
  answers[0]()
  t.equal(await a, 'a')
  t.same(calls, [['a'], ['b', 'c', 'd']], 'the three that waited leave in one call, in order')
  answers[1]()
  t.same(await Promise.all(rest), ['b', 'c', 'd'])
  const e = batch.add(0, 'e', 1)
  batch.flush()
  t.same(calls.at(-1), ['e'], 'flush sends at once')
  answers[2]()
  await e
  t.same(await Promise.all([batch.add(1, 'x', 1), batch.add(2, 'y', 1)].map(async (p, i) => {
    await turn()
    answers[3 + i]()
    return await p
  })), ['x', 'y'], 'each group has its own call in flight')
})

t.test('a churn of joins and leaves over many turns: fewer script calls than turns, each event once and in order, reads see every change', async (t) => {
  // Presence reaches Redis over a link whose answers take 5 ms, as over a network. On loopback
  // an answer can come back before the next turn (a loaded machine stretches the turns: 154 calls
  // for 200 turns on Node 24 in a CI run), and then each turn rightly has a call of its own:
  // nothing was in flight. What is under test is what the turns do while a call is.
  const { presence, admin, layout, events } = await presenceOnOwnRedis(t, e => `${e.type} ${e.member.connectionId}`, { replyDelayMs: 5 })
  presence.joined(conn('warm'), 'warm-up') // the script is loaded (NOSCRIPT, then EVAL) before counting
  await eventually(async () => await admin.hlen(layout.presence('warm-up')) === 1)
  await admin.call('CONFIG', 'RESETSTAT')

  // 200 connections, each joining in one turn and leaving in a later one: 400 changes in 400 turns.
  const TURNS = 200
  const expected: string[] = []
  for (let i = 0; i < TURNS; i++) {
    presence.joined(conn(`c${i}`), 'churn')
    expected.push(`member_joined c${i}`)
    if (i > 0) {
      presence.left(conn(`c${i - 1}`), 'churn')
      expected.push(`member_left c${i - 1}`)
    }
    await turn()
  }
  const list = await presence.list('churn')
  t.same(list?.members.map(m => JSON.parse(m).connectionId), [`c${TURNS - 1}`], 'a read after the last change sees exactly it')
  await eventually(() => events.filter(e => !e.includes('warm')).length === expected.length)
  t.same(events.filter(e => !e.includes('warm')), expected, 'every join and leave announced once, in the order made')
  const scripts = await scriptCalls(admin)
  t.ok(scripts < TURNS / 2, `${scripts} script calls for ${2 * TURNS - 1} changes in ${TURNS} turns`)
})
