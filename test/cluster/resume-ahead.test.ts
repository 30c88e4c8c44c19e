/**
 * A resume on an instance that is behind the client: the client got further through another
 * instance (or through this one before its link dropped), and its `since` cannot be read back
 * because this instance's link to Redis is down. It is told `recovered:false`, from where it is,
 * and once the link is back it gets what comes after that: none of what it had a second time
 * (found by the chaos test, seed 2118292605), and, when its `since` was beyond the room's top,
 * not left waiting for offsets the room never reached.
 */
import { test, type Test } from 'tap'
import { connect, eventually, type Client } from '../helper.js'
import { holdingProxy } from '../helpers/holding-proxy.js'
import { clusterApp, statsOf, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

/**
 * Instance A (through a proxy) hears message 1 of room r, then loses its link; instance B stores
 * 2 to 4 meanwhile. `resume` joins r on A from `since`, while A is still cut off.
 */
async function behindTheClient (t: Test) {
  const redis = await ThrowAwayRedis.start(t)
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
  return { sender, listener, last, resume, relink }
}

/** The offsets of the room messages a client got. */
function offsetsOf (client: Client): number[] {
  return client.frames.filter(f => f.type === 'message').map(f => f.offset as number)
}

test('a resume from further than its unlinked instance got: nothing it had comes again', async (t) => {
  const { sender, listener, last, resume, relink } = await behindTheClient(t)
  const member = await resume(last) // it had got 4, through B
  await relink()
  await sender.request({ type: 'message', room: 'r', data: 5 })

  await member.next(f => f.type === 'message' && f.data === 5, 10000)
  t.same(offsetsOf(member), [5], 'only what came after its since (the old code sent 2, 3, 4 again)')
  await listener.next(f => f.type === 'message' && f.data === 5, 10000)
  t.same(offsetsOf(listener), [1, 2, 3, 4, 5], 'the member that stayed caught up, in order')
})

test('a resume from beyond the room\'s top while unlinked is not left waiting for it', async (t) => {
  const { sender, last, resume, relink } = await behindTheClient(t)
  const member = await resume({ epoch: last.epoch, offset: 100 })
  await relink()
  await sender.request({ type: 'message', room: 'r', data: 5 })

  await member.next(f => f.type === 'message' && f.data === 5, 10000)
  t.same(offsetsOf(member), [5], 'it hears the room again from the next message')
})
