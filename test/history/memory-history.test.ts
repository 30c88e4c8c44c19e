import t from 'tap'
import { MemoryHistory } from '../../src/history/memory-history.js'
import { storeContract } from './store-contract.js'

storeContract(t, async ({ size, deliver }) => new MemoryHistory({ size, ttlSec: 600, deliver }))

t.test('a room idle for HISTORY_TTL_SEC starts a new epoch; its keys go with it', async (t) => {
  let now = 1_000_000
  const store = new MemoryHistory({ size: 10, ttlSec: 60, deliver: () => {}, now: () => now })
  t.teardown(() => store.close())
  const head = '{"type":"message","room":"r","data":1,"messageId":"a","ts":1'
  const first = await store.append({ room: 'r', messageId: 'a', frameHead: head, key: 'k' })
  now += 59_000
  t.equal((await store.append({ room: 'r', messageId: 'b', frameHead: head, key: 'k' })).stored, false, 'within the TTL: remembered')
  now += 60_000
  const after = await store.append({ room: 'r', messageId: 'c', frameHead: head, key: 'k' })
  t.equal(after.stored, true, 'the key expired with the history')
  t.equal(after.offset, 1, 'offsets start again')
  t.not(after.epoch, first.epoch, 'in a new epoch')
  t.equal((await store.since('r', { epoch: first.epoch, offset: 1 })).recovered, false)
})

t.test('a new instance (a restart) gives every room a new epoch', async (t) => {
  const head = '{"type":"message","room":"r","data":1,"messageId":"a","ts":1'
  const one = new MemoryHistory({ size: 10, ttlSec: 60, deliver: () => {} })
  const two = new MemoryHistory({ size: 10, ttlSec: 60, deliver: () => {} })
  t.teardown(() => { one.close(); two.close() })
  const before = await one.append({ room: 'r', messageId: 'a', frameHead: head })
  const after = await two.since('r', { epoch: before.epoch, offset: 1 })
  t.not(after.position.epoch, before.epoch)
  t.equal(after.recovered, false)
})
