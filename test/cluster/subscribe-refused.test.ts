import { test } from 'tap'
import { buildApp } from '../../src/app.js'
import { connect, eventually } from '../helper.js'
import { adminClient, clientsNamed, clusterApp, statsOf, ThrowAwayRedis, uniquePrefix, type ClientInfo } from '../redis-helper.js'

// A Redis that takes the connection but refuses SUBSCRIBE (an ACL without channel rights) must
// not look connected: the instance would serve and say ready while hearing no other instance.
test('a refused SUBSCRIBE fails the start instead of counting as connected', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const admin = adminClient(t, redis.url)
  // Redis 7 gives a new user no channel rights (acl-pubsub-default resetchannels)
  await admin.call('ACL', 'SETUSER', 'nochannels', 'on', '>pw', '~*', '+@all', 'resetchannels')
  const url = `redis://nochannels:pw@127.0.0.1:${redis.port}`
  await t.rejects(buildApp({ config: { REDIS_URL: url, REDIS_CHANNEL_PREFIX: uniquePrefix() } }), {
    message: /REDIS_URL: the Redis subscriber connection was not ready/
  })
})

// A SUBSCRIBE refused on a connection that stays up (channel rights taken, then given back) is
// tried again by the link: no `ready` would come to do it, and the instance's rooms would hear
// no other instance until the connection dropped for some other reason.
test('a resubscribe refused on a live connection is tried again, without a reconnect', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const admin = adminClient(t, redis.url)
  await admin.call('ACL', 'SETUSER', 'a', 'on', '>pw', '~*', '+@all', 'allchannels')
  const a = await clusterApp(t, `redis://a:pw@127.0.0.1:${redis.port}`, uniquePrefix())
  const { instanceId } = await statsOf(a.app)

  // Redis drops a subscriber whose rights are taken; its next connection's SUBSCRIBE is refused.
  await admin.call('ACL', 'SETUSER', 'a', 'resetchannels')
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  let refusedOn: ClientInfo | undefined
  await eventually(async () => {
    [refusedOn] = await clientsNamed(admin, `${instanceId}:sub`)
    return refusedOn !== undefined
  }, 5000)
  await new Promise(resolve => setTimeout(resolve, 1500)) // refused more than once
  t.equal((await statsOf(a.app)).redis, 'reconnecting', 'not connected while refused')

  await admin.call('ACL', 'SETUSER', 'a', 'allchannels')
  await eventually(async () => (await statsOf(a.app)).redis === 'connected', 10000)
  const [subscribedOn] = await clientsNamed(admin, `${instanceId}:sub`)
  t.equal(subscribedOn?.id, refusedOn?.id, 'subscribed on the connection that was refused')
  t.ok((subscribedOn?.sub ?? 0) > 0, 'holding its channels')
})

// One room's SUBSCRIBE refused while the connection stays up (an ACL that allows the global
// channels only): the instance must not go on claiming to hear every instance, with the room's
// members left deaf; once allowed, the link takes the channel and the room is heard.
test('a room channel refused on a live connection unsyncs the link until it is taken', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const admin = adminClient(t, redis.url)
  const prefix = uniquePrefix()
  await admin.call('ACL', 'SETUSER', 'a', 'on', '>pw', '~*', '+@all', 'resetchannels', `&${prefix}:all`, `&${prefix}:control`)
  const a = await clusterApp(t, `redis://a:pw@127.0.0.1:${redis.port}`, prefix)
  const b = await clusterApp(t, redis.url, prefix)
  t.equal((await statsOf(a.app)).redis, 'connected', 'the global channels are allowed')

  const member = await connect(t, `${a.url}/ws/r`)
  await eventually(async () => (await statsOf(a.app)).redis === 'reconnecting', 5000)
  t.pass('not connected while the room channel is refused')

  await admin.call('ACL', 'SETUSER', 'a', 'allchannels')
  await eventually(async () => (await statsOf(a.app)).redis === 'connected', 10000)
  const sender = await connect(t, `${b.url}/ws/r`)
  await sender.request({ type: 'message', room: 'r', data: 'heard' })
  t.match(await member.next('message', 10000), { data: 'heard' }, 'the room is heard once the channel is taken')
})
