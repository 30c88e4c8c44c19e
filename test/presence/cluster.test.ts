/**
 * Presence across two instances sharing a real Redis: lists, `member_joined` / `member_left` in
 * order with the room's messages, leaving by frame and by a closed socket, no self-events, `/cluster`.
 */
import { test } from 'tap'
import { connect, eventually, type Client } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

const eventsOf = (client: Client) => client.frames.filter(f => f.type === 'member_joined' || f.type === 'member_left')
/** Any JSON body, for the assertions to look into. */
const getJson = async (url: string): Promise<any> => (await fetch(url)).json()
const idsOf = (frame: { members: Array<{ connectionId: string }> }) => frame.members.map(m => m.connectionId).sort()

interface Teardown { teardown: (fn: () => unknown) => void }

async function twoInstances (t: Teardown) {
  const prefix = uniquePrefix()
  return [await clusterApp(t, TEST_REDIS_URL, prefix), await clusterApp(t, TEST_REDIS_URL, prefix)]
}

test('lists and events across two instances; no self-events; leave by frame and by close', async (t) => {
  const [a, b] = await twoInstances(t)
  const first = await connect(t, `${a.url}/ws`)
  t.match(await first.request({ type: 'join', room: 'r' }), { type: 'joined' })
  const firstId = first.frames[0].connectionId

  const second = await connect(t, `${b.url}/ws`)
  const secondId = second.frames[0].connectionId
  t.match(await second.request({ type: 'join', room: 'r' }), { type: 'joined' })
  t.same(await first.next('member_joined'), { type: 'member_joined', room: 'r', member: { connectionId: secondId, user: null } },
    'a member on the other instance hears the join')

  const third = await connect(t, `${a.url}/ws`)
  const thirdId = third.frames[0].connectionId
  t.match(await third.request({ type: 'join', room: 'r' }), { type: 'joined' })
  t.match(await first.next('member_joined'), { member: { connectionId: thirdId } }, 'a member on the same instance hears it once')
  t.match(await second.next('member_joined'), { member: { connectionId: thirdId } })

  for (const client of [first, second, third]) {
    const reply = await client.request({ type: 'presence', room: 'r' })
    t.match(reply, { type: 'presence', room: 'r', count: 3 })
    t.same(idsOf(reply), [firstId, secondId, thirdId].sort(), 'every instance lists every member')
  }
  const http = await getJson(`${b.http}/rooms/r/presence`)
  t.same({ ...http, members: idsOf(http) }, { room: 'r', count: 3, members: [firstId, secondId, thirdId].sort() })

  t.match(await second.request({ type: 'leave', room: 'r' }), { type: 'left' })
  t.match(await first.next('member_left'), { member: { connectionId: secondId, user: null } }, 'leave by frame')
  t.match(await third.next('member_left'), { member: { connectionId: secondId } })

  await third.close()
  t.match(await first.next('member_left'), { member: { connectionId: thirdId } }, 'leave by closed socket')
  await eventually(async () => (await first.request({ type: 'presence', room: 'r' })).count === 1)

  // The markers, last: second joins again (heard by first), then a fourth member joins on the other
  // instance. Both instances hear the room's events in the order Redis published them, so once
  // each member has the fourth's join, a stray or repeated event would have come before it.
  const secondAgain = await second.request({ type: 'join', room: 'r' })
  t.match(secondAgain, { type: 'joined' })
  t.match(await first.next('member_joined'), { member: { connectionId: secondId } }, 'second is back')
  const fourth = await connect(t, `${a.url}/ws`)
  const fourthId = fourth.frames[0].connectionId
  t.match(await fourth.request({ type: 'join', room: 'r' }), { type: 'joined' })
  t.match(await first.next('member_joined'), { member: { connectionId: fourthId } })
  t.match(await second.next('member_joined'), { member: { connectionId: fourthId } })
  t.same(eventsOf(first).map(f => `${f.type} ${f.member.connectionId}`),
    [`member_joined ${secondId}`, `member_joined ${thirdId}`, `member_left ${secondId}`, `member_left ${thirdId}`,
      `member_joined ${secondId}`, `member_joined ${fourthId}`],
    'each event exactly once, none about itself')
  t.same(eventsOf(second).map(f => `${f.type} ${f.member.connectionId}`), [`member_joined ${thirdId}`, `member_joined ${fourthId}`],
    'none about itself, none before its own joined, none while it was out of the room')
  t.ok(second.frames.findIndex(f => f.type === 'member_joined' && f.member.connectionId === fourthId) > second.frames.indexOf(secondAgain),
    'the fourth\'s join after its own second joined')
  t.notOk(eventsOf(third).some(f => f.member.connectionId === thirdId), 'no event about itself')
})

test('events come in order with the room\'s messages', async (t) => {
  const [a, b] = await twoInstances(t)
  const watcher = await connect(t, `${a.url}/ws/r`)
  const sender = await connect(t, `${b.url}/ws/r`)
  await watcher.next(f => f.type === 'member_joined')
  await sender.request({ type: 'message', room: 'r', data: 'before' })
  const joiner = await connect(t, `${b.url}/ws`)
  await joiner.request({ type: 'join', room: 'r' })
  await sender.request({ type: 'message', room: 'r', data: 'after' })
  await watcher.next(f => f.type === 'message' && f.data === 'after')
  const seen = watcher.frames.filter(f => f.type === 'message' || f.type === 'member_joined').map(f => f.type === 'message' ? f.data : 'joined')
  t.same(seen, ['joined', 'before', 'joined', 'after'])
})

test('no event before the connection\'s own joined', async (t) => {
  const [a, b] = await twoInstances(t)
  const joiner = await connect(t, `${a.url}/ws`)
  joiner.send({ type: 'join', room: 'r' })
  // Joins on the other instance race the first one's join.
  const others = await Promise.all([connect(t, `${b.url}/ws/r`), connect(t, `${b.url}/ws/r`)])
  await joiner.next('joined')
  await eventually(async () => (await others[0].request({ type: 'presence', room: 'r' })).count === 3)
  // No wait needed: what came before `joined` is fixed once `joined` is in; the count above is the
  // positive side (all three joins happened).
  const joinedAt = joiner.frames.findIndex(f => f.type === 'joined')
  t.notOk(joiner.frames.slice(0, joinedAt).some(f => f.type === 'member_joined'), 'nothing before joined')
})

test('GET /cluster lists both instances with their counts', async (t) => {
  const [a, b] = await twoInstances(t)
  await connect(t, `${a.url}/ws/r`)
  await connect(t, `${a.url}/ws/s`)
  const ids = await Promise.all([a, b].map(async ({ http }) => (await getJson(`${http}/ws/stats`)).instanceId))
  let body: any
  await eventually(async () => {
    body = await getJson(`${b.http}/cluster`)
    return body.instances.length === 2 && body.instances.some((i: any) => i.connections === 2)
  }, 15000)
  const byId = Object.fromEntries(body.instances.map((i: any) => [i.instanceId, i]))
  t.same(Object.keys(byId).sort(), [...ids].sort())
  t.match(byId[ids[0]], { connections: 2, rooms: 2 })
  t.match(byId[ids[1]], { connections: 0, rooms: 0 })
  for (const instance of body.instances) {
    t.ok(instance.startedAt <= instance.lastSeen && instance.lastSeen <= Date.now() + 1000, 'epoch ms')
  }
})

test('a graceful shutdown: the members of the closing instance leave at once, and it leaves /cluster', async (t) => {
  const [a, b] = await twoInstances(t)
  const stays = await connect(t, `${a.url}/ws/r`)
  const goes = await connect(t, `${b.url}/ws/r`)
  goes.ws.on('error', () => {})
  await stays.next('member_joined')
  await eventually(async () => (await getJson(`${a.http}/cluster`)).instances.length === 2, 15000)
  await b.app.close()
  t.match(await stays.next('member_left'), { member: { connectionId: goes.frames[0].connectionId } })
  // Its ZREM follows the leaves on its connection; the TTL is 30 s.
  await eventually(async () => (await getJson(`${a.http}/cluster`)).instances.length === 1, 2000)
  t.pass('gone from /cluster without waiting for the TTL')
  t.equal((await stays.request({ type: 'presence', room: 'r' })).count, 1)
})
