import { test } from 'tap'
import { Redis } from 'ioredis'
import { quitWithTimeout } from '../../src/redis/quit.js'
import { eventually } from '../helper.js'
import { ThrowAwayRedis } from '../redis-helper.js'

/**
 * The bound for "at once": well under the timer a close would otherwise wait for, with room for
 * a loaded machine (a disconnect takes microseconds; half the timer is 2.5 s of slack).
 */
const QUIT_TIMEOUT_MS = 5000
const AT_ONCE_MS = QUIT_TIMEOUT_MS / 2

test('a client whose Redis is gone, with commands in its offline queue, is closed at once', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url, { retryStrategy: () => 50 })
  client.on('error', () => {})
  let connects = 0
  let retries = 0
  client.on('connect', () => { connects++ })
  client.on('reconnecting', () => { retries++ })
  await client.ping()
  await redis.stop()
  await eventually(() => client.status === 'reconnecting')
  // Queued while Redis is away: a QUIT sent now would queue behind it and never be answered.
  client.set('k', 'v').catch(() => {})
  const started = performance.now()
  await quitWithTimeout(client, QUIT_TIMEOUT_MS)
  const took = performance.now() - started
  t.ok(took < AT_ONCE_MS, `not the timer: it did not wait for an answer (${Math.round(took)} ms of a ${QUIT_TIMEOUT_MS} ms timeout)`)
  const retriesAtClose = retries
  // The marker: with Redis back, a new client connects; the closed one never comes back.
  await redis.start()
  const fresh = new Redis(redis.url)
  t.teardown(() => fresh.disconnect())
  t.equal(await fresh.ping(), 'PONG')
  await new Promise(resolve => setTimeout(resolve, 200)) // 4 of its 50 ms retry intervals, after the fresh client got in
  t.equal(connects, 1, 'no reconnect after the close')
  t.equal(retries, retriesAtClose, 'no retry was even attempted')
  t.not(client.status, 'ready')
})

test('a connected client is QUIT, and what it sent before is answered first', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url)
  await client.ping()
  const answered = client.set('k', 'v')
  const started = performance.now()
  await quitWithTimeout(client, QUIT_TIMEOUT_MS)
  t.ok(performance.now() - started < AT_ONCE_MS, 'answered, not timed out')
  t.equal(await answered, 'OK')
  await eventually(() => client.status === 'end')
  t.equal(client.status, 'end', 'ended')
})

test('a frozen Redis holds the close for the timeout only', async (t) => {
  const redis = await ThrowAwayRedis.start(t)
  const client = new Redis(redis.url, { retryStrategy: () => 50 })
  client.on('error', () => {})
  await client.ping()
  process.kill(redis.pid as number, 'SIGSTOP') // stop() resumes it
  const timeoutMs = 300
  const started = performance.now()
  await quitWithTimeout(client, timeoutMs)
  const took = performance.now() - started
  // Not before the timer (a timer never fires early; 5 ms for clock rounding), and not held much
  // past it: the same 2.5 s of slack a loaded machine gets above.
  t.ok(took >= timeoutMs - 5, `not before the timeout (${Math.round(took)} ms)`)
  t.ok(took < timeoutMs + AT_ONCE_MS, `closed after the timeout, not held by Redis (${Math.round(took)} ms)`)
  // The socket is ended, not destroyed: ioredis destroys it after its `disconnectTimeout` when the
  // frozen peer never closes its side; the client ends then, with no reconnect pending.
  const disconnectTimeout = (client.options as { disconnectTimeout?: number }).disconnectTimeout ?? 2000
  await eventually(() => client.status === 'end', disconnectTimeout + AT_ONCE_MS)
  t.equal(client.status, 'end', `the socket was dropped, no reconnect pending (${Math.round(performance.now() - started)} ms)`)
})
