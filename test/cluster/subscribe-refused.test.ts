import { test } from 'tap'
import { buildApp } from '../../src/app.js'
import { adminClient, ThrowAwayRedis, uniquePrefix } from '../redis-helper.js'

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
