/**
 * Every stored message has an idempotency key: a send without one gets a key the service makes
 * from its messageId, so the append script run twice for one send (a Cluster re-sends a command
 * whose node connection dropped, and the first run may have stored it) stores it once.
 */
import t from 'tap'
import { Redis } from 'ioredis'
import { RedisHistory } from '../../src/history/redis-history.js'
import { redisLayout } from '../../src/redis/layout.js'
import { TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

t.test('the same send without a key, run twice, is stored once', async (t) => {
  const layout = redisLayout(uniquePrefix())
  const client = new Redis(TEST_REDIS_URL)
  t.teardown(() => client.disconnect())
  let epochs = 0
  const store = new RedisHistory({ client, layout, size: 10, ttlSec: 600, newEpoch: () => `e${++epochs}` })
  const draft = { room: 'r', messageId: 'tag-1', frameHead: '{"type":"message","room":"r","data":1' }
  const first = await store.append(draft)
  const retry = await store.append(draft) // what the re-sent command does
  t.match(first, { stored: true, offset: 1 })
  t.match(retry, { stored: false, messageId: 'tag-1', offset: 1, epoch: first.epoch })
  const other = await store.append({ ...draft, messageId: 'tag-2' })
  t.match(other, { stored: true, offset: 2 }, 'another send is stored')
  t.equal((await store.page('r', 10, null)).messages.length, 2, 'two messages, not three')
})
