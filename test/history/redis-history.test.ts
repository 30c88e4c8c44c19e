import t from 'tap'
import { Redis } from 'ioredis'
import { RedisHistory } from '../../src/history/redis-history.js'
import { redisLayout } from '../../src/redis/layout.js'
import { openStoredPayload } from '../../src/redis/stored-payload.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'
import { storeContract } from './store-contract.js'

let epochs = 0

// The Redis store publishes instead of calling `deliver`: a subscriber of the test plays the broker.
storeContract(t, async ({ size, deliver }) => {
  const layout = redisLayout(uniquePrefix())
  const client = new Redis(TEST_REDIS_URL)
  const subscriber = new Redis(TEST_REDIS_URL)
  await subscriber.psubscribe(`${layout.room('*')}`)
  subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
    const stored = openStoredPayload(payload)
    const room = layout.roomOf(channel.toString())
    if (stored !== null && room !== null) deliver(room, stored.offset, stored.epoch, stored.frame)
  })
  const store = new RedisHistory({ client, layout, size, ttlSec: 600, newEpoch: () => `e${++epochs}-${Date.now()}` })
  const close = store.close.bind(store)
  store.close = () => {
    close()
    client.disconnect()
    subscriber.disconnect()
  }
  return store
})

t.test('the history expires HISTORY_TTL_SEC after its last message, with its keys', async (t) => {
  const prefix = uniquePrefix()
  const layout = redisLayout(prefix)
  const client = new Redis(TEST_REDIS_URL)
  t.teardown(() => client.disconnect())
  const store = new RedisHistory({ client, layout, size: 10, ttlSec: 60, newEpoch: () => `e${++epochs}` })
  await store.append({ room: 'r', messageId: 'a', frameHead: '{"type":"message","room":"r","data":1', key: 'k' })
  for (const key of [layout.meta('r'), layout.log('r'), layout.messageKey('r', 'k')]) {
    const ttl = await client.ttl(key)
    t.ok(ttl > 55 && ttl <= 60, `${key} expires in ${ttl} s`)
  }
})

t.test('a flushed Redis gives the room a new epoch; a key of the lost history no longer counts', async (t) => {
  const prefix = uniquePrefix()
  const layout = redisLayout(prefix)
  const client = new Redis(TEST_REDIS_URL)
  t.teardown(() => client.disconnect())
  const store = new RedisHistory({ client, layout, size: 10, ttlSec: 60, newEpoch: () => `e${++epochs}` })
  const before = await store.append({ room: 'r', messageId: 'a', frameHead: '{"type":"message","room":"r","data":1', key: 'k' })
  await client.del(layout.meta('r')) // what a restart without data or an eviction does to this room
  const after = await store.append({ room: 'r', messageId: 'b', frameHead: '{"type":"message","room":"r","data":1', key: 'k' })
  t.equal(after.stored, true)
  t.equal(after.offset, 1)
  t.not(after.epoch, before.epoch)
  t.equal((await store.since('r', { epoch: before.epoch, offset: 1 })).recovered, false)
})

t.test('stored payloads: header parsed, malformed ones refused', async (t) => {
  const ok = openStoredPayload(Buffer.from('=12 abc-1\n{"a":1}'))
  t.same(ok && { offset: ok.offset, epoch: ok.epoch, frame: ok.frame.toString() }, { offset: 12, epoch: 'abc-1', frame: '{"a":1}' })
  for (const bad of ['=\n{}', '=12\n{}', '=0 e\n{}', '=x e\n{}', '=1 e\nnot', '=1 \n{}', `=1 ${'e'.repeat(80)}\n{}`]) {
    t.equal(openStoredPayload(Buffer.from(bad)), null, JSON.stringify(bad))
  }
})
