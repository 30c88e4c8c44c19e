/** The fault schedule is a pure function of the seed: a failing seed replays the same faults. */
import { test } from 'tap'
import { faultSchedule } from './schedule.js'

test('the same seed gives the same schedule, another seed another one', async (t) => {
  const opts = { durationMs: 60_000, instances: 3 }
  const first = faultSchedule({ seed: 7, ...opts })
  t.same(faultSchedule({ seed: 7, ...opts }), first)
  t.notSame(faultSchedule({ seed: 8, ...opts }), first)
  t.ok(first.length >= 20, `a minute holds ${first.length} faults`)
  t.ok(first.every((f, i) => i === 0 || f.atMs > first[i - 1].atMs), 'in start order')
  t.ok(first.every(f => f.atMs < opts.durationMs), 'all within the phase')
})

test('every fault kind comes up over a long run; the Sentinel variant adds the lossy failover', async (t) => {
  const kinds = new Set(faultSchedule({ seed: 1, durationMs: 600_000, instances: 3 }).map(f => f.kind))
  t.same([...kinds].sort(), ['kill-normal', 'kill-pubsub', 'pause', 'proxy-cut', 'proxy-reset', 'proxy-stall', 'redis-restart', 'sigkill', 'sigterm'])
  const sentinel = new Set(faultSchedule({ seed: 1, durationMs: 600_000, instances: 3, sentinel: true }).map(f => f.kind))
  t.same([...sentinel].sort(), ['failover-lost-writes', 'kill-normal', 'kill-pubsub', 'pause', 'sigkill', 'sigterm'])
})
