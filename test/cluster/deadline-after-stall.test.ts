/**
 * The command deadline measures Redis, not this process's event loop: an answer that arrived while
 * the loop was blocked past the deadline is taken, not rejected; a command Redis never answers
 * still fails at its deadline. Real Redis (the deadline is what a real connection does with time).
 */
import { test, type Test } from 'tap'
import { Redis } from 'ioredis'
import { withCommandDeadline } from '../../src/redis/command-deadline.js'
import { TEST_REDIS_URL, ThrowAwayRedis } from '../redis-helper.js'

const DEADLINE_MS = 100

function blockFor (ms: number): void {
  const until = Date.now() + ms
  while (Date.now() < until) { /* the event loop stalls, as under a long GC or a starved CPU */ }
}

function client (t: Test, url = TEST_REDIS_URL): Redis {
  const redis = withCommandDeadline(new Redis(url, { lazyConnect: true }), DEADLINE_MS)
  t.teardown(() => redis.disconnect())
  return redis
}

test('answered while the event loop was blocked past the deadline: resolved', async (t) => {
  const redis = client(t)
  await redis.connect()
  for (let round = 0; round < 5; round++) {
    const answer = redis.ping(`round ${round}`)
    // Redis answers within a millisecond; the answer waits unread in the socket while the loop is
    // blocked, and the deadline's timer is due before the poll that would read it.
    blockFor(3 * DEADLINE_MS)
    t.equal(await answer, `round ${round}`, `round ${round}: the answer that came in time is taken`)
  }
})

test('never answered: rejected at the deadline, not long after', async (t) => {
  // A redis-server of its own: CLIENT PAUSE would hold every other test's commands too.
  const server = await ThrowAwayRedis.start(t)
  const redis = client(t, server.url)
  await redis.connect()
  const admin = new Redis(server.url)
  t.teardown(() => admin.disconnect())
  // CLIENT PAUSE holds every command of the paused client's kind, so Redis does not answer.
  await admin.call('CLIENT', 'PAUSE', String(20 * DEADLINE_MS), 'WRITE')
  t.teardown(() => admin.call('CLIENT', 'UNPAUSE'))
  const started = performance.now()
  await t.rejects(redis.set(`deadline-after-stall:${process.pid}`, '1'), /timed out/)
  const took = performance.now() - started
  t.ok(took >= DEADLINE_MS - 1 && took < 10 * DEADLINE_MS, `rejected after ${Math.round(took)} ms (deadline ${DEADLINE_MS} ms)`)
})
