/**
 * A room's history found back in an epoch its feed already left: Redis went back to a copy from
 * before the move (a snapshot, a replica that missed it). The feed delivered that epoch's messages
 * then; read as a new history they would reach every member a second time. On a real Redis: the
 * copy is put back with DUMP and RESTORE, stamped by this very Redis (as a durable room is not
 * stamped at all), so only the feed can tell that it went back.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisHistory } from '../../src/history/redis-history.js'
import { Hub } from '../../src/hub/hub.js'
import { redisLayout } from '../../src/redis/layout.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { fakeConnection } from './fake-connection.js'

const head = (n: number): string => `{"type":"message","room":"r","data":${n}`
const frame = (epoch: string, offset: number): Buffer => Buffer.from(`${head(offset)},"offset":${offset},"epoch":"${epoch}"}`)
const settle = async (): Promise<void> => await new Promise(resolve => setTimeout(resolve, 50))

t.test('a catch-up that finds an epoch the feed left fences it: nothing is delivered twice, members stay open', async (t) => {
  const client = new Redis(TEST_REDIS_URL)
  t.teardown(() => client.disconnect())
  const layout = redisLayout(uniquePrefix())
  let epochs = 0
  const store = new RedisHistory({ client, layout, size: 100, ttlSec: 600, newEpoch: () => `n${++epochs}` })
  await client.ping() // ready: the feed reads only from a store that is available
  const hub = new Hub()
  hub.useHistory(store)
  const member = fakeConnection()
  await hub.join(member, 'r', null, () => {})
  await settle() // the feed's first read: it knows the room's position

  const first = []
  for (let i = 1; i <= 3; i++) first.push(await store.append({ room: 'r', messageId: `a-${i}`, frameHead: head(i) }))
  const old = first[0].epoch
  for (const m of first) hub.deliverStored('r', m.offset, m.epoch, frame(m.epoch, m.offset))
  const copy = { meta: await client.dumpBuffer(layout.meta('r')), log: await client.dumpBuffer(layout.log('r')) }

  // The room moves on to another epoch, and the feed with it.
  await store.fence('r', { epoch: old, offset: 10 })
  const second = []
  for (let i = 1; i <= 2; i++) second.push(await store.append({ room: 'r', messageId: `b-${i}`, frameHead: head(i) }))
  const moved = second[0].epoch
  t.not(moved, old)
  for (const m of second) hub.deliverStored('r', m.offset, m.epoch, frame(m.epoch, m.offset))
  const before = [...member.pairs]
  t.same(before, [`${old}/1`, `${old}/2`, `${old}/3`, `${moved}/1`, `${moved}/2`])

  // Redis goes back to the copy, and the feed hears of a gap (a message it cannot place).
  await client.restore(layout.meta('r'), 600000, copy.meta as Buffer, 'REPLACE')
  await client.restore(layout.log('r'), 600000, copy.log as Buffer, 'REPLACE')
  hub.deliverStored('r', 4, moved, frame(moved, 4))
  await settle()

  t.same(member.pairs, before, `nothing of ${old} again`)
  t.equal(member.closedWith, null, 'the member stays open')
  const now = (await store.since('r', null)).position
  t.notOk([old, moved].includes(now.epoch), `the room is in a new epoch (${now.epoch})`)
  t.equal(now.offset, 0)

  // The next message is the new epoch's first, and reaches the member.
  const next = await store.append({ room: 'r', messageId: 'c-1', frameHead: head(1) })
  t.match(next, { epoch: now.epoch, offset: 1 })
  hub.deliverStored('r', next.offset, next.epoch, frame(next.epoch, next.offset))
  t.same(member.pairs.slice(before.length), [`${now.epoch}/1`])
  store.close()
})
