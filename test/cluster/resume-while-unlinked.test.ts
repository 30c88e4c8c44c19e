/**
 * A join whose own history read succeeds while its instance does not hear the room yet (the
 * command connection is back, the subscriber is not): the joiner is told a position the room's
 * feed has not got. When the feed learns where the room is, the joiner must still get every
 * message after its `joined` — never be promoted past them, never be left out of the room.
 *
 * The subscriber alone is kept off with an ACL that takes the instance's user its channel rights
 * (Redis drops its subscribed connection, and refuses the SUBSCRIBE of the next one); the command
 * connection only reads, which the ACL still allows.
 */
import { test, type Test } from 'tap'
import { connect, eventually } from '../helper.js'
import { adminClient, clientsNamed, clusterApp, statsOf, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

/**
 * Two instances on a throw-away Redis, instance A's subscriber kept off by the ACL, a message 1
 * stored through B, and a member that resumed from it on A: answered from the history.
 */
async function resumedWhileUnlinked (t: Test) {
  const redis = await ThrowAwayRedis.start(t)
  const admin = adminClient(t, redis.url)
  await admin.call('ACL', 'SETUSER', 'a', 'on', '>pw', '~*', '+@all', 'allchannels')
  const prefix = uniquePrefix()
  const a = await clusterApp(t, `redis://a:pw@127.0.0.1:${redis.port}`, prefix)
  const b = await clusterApp(t, redis.url, prefix)
  const sender = await connect(t, `${b.url}/ws/r`)
  const first = await sender.request({ type: 'message', room: 'r', data: 1 })

  // A's subscriber is dropped and cannot subscribe again; its command connection stays.
  await admin.call('ACL', 'SETUSER', 'a', 'resetchannels')
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  const member = await connect(t, `${a.url}/ws`)
  member.send({ type: 'join', room: 'r', since: { epoch: first.epoch, offset: first.offset } })
  t.match(await member.next('joined'), { offset: 1, epoch: first.epoch, recovered: true }, 'the resume was answered from the history')
  return { admin, a, sender, member, first }
}

type Unlinked = Awaited<ReturnType<typeof resumedWhileUnlinked>>

/**
 * A's channel rights back, then `meanwhile` (what is stored before A's subscriber returns), then its
 * subscriber reconnected (killed, in case it waits to retry) and A linked again.
 */
async function relink ({ admin, a }: Unlinked, meanwhile: () => Promise<unknown> = async () => {}): Promise<void> {
  await admin.call('ACL', 'SETUSER', 'a', 'on', '>pw', '~*', '+@all', 'allchannels')
  await meanwhile()
  const [sub] = await clientsNamed(admin, `${(await statsOf(a.app)).instanceId}:sub`)
  if (sub !== undefined) await admin.call('CLIENT', 'KILL', 'ID', sub.id)
  await eventually(async () => (await statsOf(a.app)).redis === 'connected', 10000)
}

test('a resume answered while the subscriber is down gets what was stored before the link came back', async (t) => {
  const unlinked = await resumedWhileUnlinked(t)
  const { sender, member } = unlinked
  for (let i = 2; i <= 3; i++) await sender.request({ type: 'message', room: 'r', data: i })
  await relink(unlinked)
  await sender.request({ type: 'message', room: 'r', data: 4 })

  const outcome = await Promise.race([
    member.next(f => f.type === 'message' && f.data === 4, 10000).then(() => 'heard', () => 'nothing'),
    member.closed.then(code => `closed ${code}`)
  ])
  const got = member.frames.filter(f => f.type === 'message').map(f => f.data)
  if (outcome === 'heard') t.same(got, [2, 3, 4], 'every message after its joined, in order')
  else t.equal(outcome, 'closed 4010', `told to resume (got ${JSON.stringify(got)})`)
})

test('a resume answered while the subscriber is down hears the room after its history was lost', async (t) => {
  const unlinked = await resumedWhileUnlinked(t)
  const { admin, sender, member, first } = unlinked
  // The room's history is lost (Redis flushed, or came back empty) before A hears the room again.
  await admin.flushall()
  await relink(unlinked, () => sender.request({ type: 'message', room: 'r', data: 2 }))
  const last = await sender.request({ type: 'message', room: 'r', data: 3 })

  const outcome = await Promise.race([
    member.next(f => f.type === 'message' && f.data === 3, 10000).then(() => 'heard', () => 'nothing'),
    member.closed.then(code => `closed ${code}`)
  ])
  const got = member.frames.filter(f => f.type === 'message').map(f => f.data)
  if (outcome === 'heard') {
    t.same(got.slice(-1), [3], `the room is heard again (got ${JSON.stringify(got)})`)
    t.not(member.frames.at(-1).epoch, first.epoch, 'under the new epoch, which says messages may be lost')
    t.equal(member.frames.at(-1).epoch, last.epoch)
  } else t.equal(outcome, 'closed 4010', `told to resume (got ${JSON.stringify(got)})`)
})
