import { test } from 'tap'
import { Redis } from 'ioredis'
import { quitWithTimeout } from '../../src/hub/redis-quit.js'
import { eventually } from '../helper.js'
import { ThrowAwayRedis } from '../redis-helper.js'

test('a client whose Redis is gone, with commands in its offline queue, is closed at once', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url, { retryStrategy: () => 50 })
  client.on('error', () => {})
  await client.ping()
  await redis.stop()
  await eventually(() => client.status === 'reconnecting')
  // Queued while Redis is away: a QUIT sent now would queue behind it and never be answered.
  client.set('k', 'v').catch(() => {})
  const started = performance.now()
  await quitWithTimeout(client, 5000)
  t.ok(performance.now() - started < 500, 'not the timer: it did not wait for an answer')
  t.not(client.status, 'ready')
  // No reconnect is pending: the test's process would otherwise be held open (tap times it out).
  await new Promise(resolve => setTimeout(resolve, 200))
  t.not(client.status, 'connecting', 'no reconnect after the close')
})

test('a connected client is QUIT, and what it sent before is answered first', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url)
  await client.ping()
  const answered = client.set('k', 'v')
  await quitWithTimeout(client, 5000)
  t.equal(await answered, 'OK')
  await eventually(() => client.status === 'end')
  t.pass('ended')
})

test('a frozen Redis holds the close for the timeout only', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url, { retryStrategy: () => 50 })
  client.on('error', () => {})
  await client.ping()
  process.kill(redis.pid as number, 'SIGSTOP') // stop() resumes it
  const started = performance.now()
  await quitWithTimeout(client, 300)
  const took = performance.now() - started
  t.ok(took >= 290 && took < 1500, `closed after the timeout (${Math.round(took)} ms)`)
})
