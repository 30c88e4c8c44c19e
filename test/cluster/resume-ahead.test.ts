/**
 * A resume on an instance that is behind the client: the client got further through another
 * instance (or through this one before its link dropped), and its `since` cannot be read back
 * because this instance's link to Redis is down. It is told `recovered:false`, from where it is,
 * and once the link is back it gets what comes after that: none of what it had a second time
 * (found by the chaos test, seed 2118292605), also when the room moved to an epoch the instance
 * had not seen; meanwhile it gets what is not stored. A `since` beyond the room's top is not left
 * waiting for offsets the room never reached: it resumes, and is answered from the history.
 */
import { test, type Test } from 'tap'
import { connect, eventually, type Client } from '../helper.js'
import { holdingProxy } from '../helpers/holding-proxy.js'
import type { Redis } from 'ioredis'
import { adminClient, clusterApp, statsOf, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

/**
 * Instance A (through a proxy) hears message 1 of room r, then loses its link; instance B stores
 * 2 to 4 meanwhile. `resume` joins r on A from `since`, while A is still cut off.
 */
async function behindTheClient (t: Test, lostMeanwhile: (admin: Redis) => Promise<unknown> = async () => {}) {
  const redis = await ThrowAwayRedis.start(t)
  const admin = adminClient(t, redis.url)
  const proxy = await holdingProxy(t, redis.url)
  const prefix = uniquePrefix()
  const a = await clusterApp(t, proxy.url, prefix, { REDIS_COMMAND_TIMEOUT_MS: 500 })
  const b = await clusterApp(t, redis.url, prefix)
  const listener = await connect(t, `${a.url}/ws/r`) // keeps room r open on A: its feed at 1
  const sender = await connect(t, `${b.url}/ws/r`)
  await sender.request({ type: 'message', room: 'r', data: 1 })
  await listener.next(f => f.type === 'message' && f.data === 1)

  proxy.cut()
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  await lostMeanwhile(admin)
  let last = { epoch: '', offset: 0 }
  for (let i = 2; i <= 4; i++) last = await sender.request({ type: 'message', room: 'r', data: i })

  const resume = async (since: { epoch: string, offset: number }): Promise<Client> => {
    const member = await connect(t, `${a.url}/ws`)
    member.send({ type: 'join', room: 'r', since })
    t.match(await member.next('joined'), { epoch: since.epoch, offset: since.offset, recovered: false },
      'told recovered:false, at the position it resumed from (the instance is behind it)')
    return member
  }
  const relink = async (): Promise<void> => {
    proxy.restore()
    await eventually(async () => (await statsOf(a.app)).redis === 'connected', 10000)
  }
  return { sender, listener, last, resume, relink, url: a.url }
}

/** The offsets of the stored room messages a client got. */
function offsetsOf (client: Client): number[] {
  return client.frames.filter(f => f.type === 'message' && f.transient !== true).map(f => f.offset as number)
}

test('a resume from further than its unlinked instance got: nothing it had comes again', async (t) => {
  const { sender, listener, last, resume, relink } = await behindTheClient(t)
  const member = await resume(last) // it had got 4, through B
  listener.send({ type: 'message', room: 'r', data: 'typing', transient: true })
  t.match(await member.next('message'), { data: 'typing', transient: true }, 'what is not stored reaches it while it waits')
  await relink()
  await sender.request({ type: 'message', room: 'r', data: 5 })

  await member.next(f => f.type === 'message' && f.data === 5, 10000)
  t.same(offsetsOf(member), [5], 'only what came after its since (the old code sent 2, 3, 4 again)')
  await listener.next(f => f.type === 'message' && f.data === 5, 10000)
  t.same(offsetsOf(listener), [1, 2, 3, 4, 5], 'the member that stayed caught up, in order')
})

test('a resume in an epoch its unlinked instance has not seen: nothing it had comes again', async (t) => {
  // The room's history is lost while A is cut off: B's messages 2 to 4 start a new epoch.
  const { sender, last, resume, relink } = await behindTheClient(t, admin => admin.flushall())
  const member = await resume(last)
  await relink()
  const next = await sender.request({ type: 'message', room: 'r', data: 5 })

  await member.next(f => f.type === 'message' && f.data === 5, 10000)
  t.same(member.frames.filter(f => f.type === 'message').map(f => [f.epoch, f.offset]), [[next.epoch, next.offset]],
    'only what came after its since, in the new epoch (the old code sent its first messages again)')
})

test('a resume from beyond the room\'s top while unlinked resumes once the room is read', async (t) => {
  const { sender, last, resume, relink, url } = await behindTheClient(t)
  const member = await resume({ epoch: last.epoch, offset: 100 })
  await relink()
  t.equal(await member.closed, 4010, 'told to resume once a read shows the room never got there')
  t.same(offsetsOf(member), [], 'no lower offset after its joined')

  const again = await connect(t, `${url}/ws`)
  again.send({ type: 'join', room: 'r', since: { epoch: last.epoch, offset: 100 } })
  t.match(await again.next('joined'), { epoch: last.epoch, offset: 4, recovered: false }, 'answered from the history: where the room is')
  await sender.request({ type: 'message', room: 'r', data: 5 })
  t.match(await again.next('message', 10000), { data: 5, offset: 5 })
})

test('a resume in an epoch the room never had, while unlinked, hears the room\'s new epoch', async (t) => {
  // The room's history is lost while A is cut off; the client names an epoch neither A nor Redis has.
  const { sender, resume, relink } = await behindTheClient(t, admin => admin.flushall())
  const member = await resume({ epoch: 'never-had', offset: 3 })
  await relink()
  const next = await sender.request({ type: 'message', room: 'r', data: 5 })
  await member.next(f => f.type === 'message' && f.data === 5, 10000)
  t.not(next.epoch, 'never-had')
  t.same(member.frames.filter(f => f.type === 'message').map(f => f.epoch), member.frames.filter(f => f.type === 'message').map(() => next.epoch),
    'kept open on the loss of a history, as members are: it hears the new epoch, whose change says messages may be lost')
})
