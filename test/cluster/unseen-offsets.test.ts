/**
 * A failover that lost acknowledged messages (HISTORY_MIN_REPLICAS=0), seen from an instance that
 * knew nothing of them: instance A's members got (E, 4) and (E, 5) from a master whose replica had
 * only 1..3; the replica is promoted, and instance B, which neither delivered nor stored 4 and 5,
 * stores first. B's message must not be (E, 4): the room continues under a new epoch. Real
 * redis-server processes of this file only, and real instances.
 */
import { test } from 'tap'
import { connect, eventually } from '../helper.js'
import { clusterApp, uniquePrefix } from '../redis-helper.js'
import { redisLayout } from '../../src/redis/layout.js'
import { RedisProcess } from '../helpers/redis-process.js'

test('the first message stored after a lossy failover, by an instance that never saw the lost offsets, is in a new epoch', async (t) => {
  const master = await RedisProcess.start(t)
  const replica = await RedisProcess.start(t, { replicaOf: master })
  await replica.synced(t)
  const prefix = uniquePrefix()
  const replicaClient = replica.client(t)

  const a = await clusterApp(t, master.url, prefix)
  const sender = await connect(t, `${a.url}/ws/r`)
  const member = await connect(t, `${a.url}/ws/r`)
  const acks = []
  for (let i = 1; i <= 3; i++) acks.push(await sender.request({ type: 'message', room: 'r', data: i }))
  await eventually(async () => await replicaClient.hget(redisLayout(prefix).meta('r'), 'top') === '3', 10000)
  // The replica leaves its master (which promotes it): 4 and 5 are acknowledged by the master alone.
  await replicaClient.call('REPLICAOF', 'NO', 'ONE')
  for (let i = 4; i <= 5; i++) acks.push(await sender.request({ type: 'message', room: 'r', data: i }))
  const epoch = acks[0].epoch
  t.same(acks.map(ack => `${ack.epoch}/${ack.offset}`), [1, 2, 3, 4, 5].map(i => `${epoch}/${i}`), 'one epoch on one master')
  const delivered = await member.next(f => f.type === 'message' && f.data === 5)
  t.match(delivered, { offset: 5, epoch }, 'A\'s member got (E, 5)')
  await master.kill()

  // B comes up on the promoted replica: it has seen nothing of the room.
  const b = await clusterApp(t, replica.url, prefix)
  const onB = await connect(t, `${b.url}/ws`)
  t.equal(await replica.client(t).hget(redisLayout(prefix).meta('r'), 'top'), '3', 'the promoted replica holds the epoch up to 3')
  const joined = await onB.request({ type: 'join', room: 'r' })
  // Stamped by the old master's history: the first read (this join) leaves it, lost or not.
  t.match(joined, { type: 'joined', offset: 0 }, 'the join finds a new, empty epoch')
  t.not(joined.epoch, epoch)
  const after = await onB.request({ type: 'message', room: 'r', data: 'after' })
  t.equal(after.type, 'ack')
  const named = new Set(acks.map(ack => `${ack.epoch}/${ack.offset}`))
  t.notOk(named.has(`${after.epoch}/${after.offset}`), `a fresh (epoch, offset), not one A's members got: ${after.epoch}/${after.offset}`)
  t.equal(after.epoch, joined.epoch, 'the join\'s epoch')
  t.equal(after.offset, 1)
  const live = await onB.next(f => f.type === 'message' && f.data === 'after')
  t.match(live, { epoch: after.epoch, offset: 1 }, 'B\'s member hears it in the new epoch')
  const resumed = await connect(t, `${b.url}/ws`)
  t.match(await resumed.request({ type: 'join', room: 'r', since: { epoch, offset: 3 } }), { type: 'joined', recovered: false, epoch: after.epoch, offset: 1 },
    'a resume from the old epoch is told that messages may be missing')
})
