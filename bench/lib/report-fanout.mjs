/** The fan-out scenarios' medians and table rows (10 x 100 and the small rooms). */
import { fmt, median } from './stats.mjs'

const med = (xs, f) => median(xs.map(f))
const loss = (s) => (s.expected - s.delivered) / s.expected

export function summariseFanout (scenario, names) {
  const out = {}
  for (const name of names) {
    const rounds = scenario.fanout[name]
    const lat = scenario.latency.targets[name]
    out[name] = {
      maxDeliveriesPerSec: med(rounds, r => r.best?.deliveredPerSec),
      maxRate: med(rounds, r => r.best?.rate),
      cpuUsAtPeak: med(rounds, r => r.best?.cpuUsPerDelivery),
      serverCoresAtPeak: med(rounds, r => r.best?.serverCores),
      loadgenCoresAtPeak: med(rounds, r => r.best?.loadgenCores),
      loadgenCoresAtFail: med(rounds, r => r.failed?.loadgenCores),
      serverCoresAtFail: med(rounds, r => r.failed?.serverCores),
      cpuUsAtCommon: med(lat.common, s => s.cpuUsPerDelivery),
      cpuUsAtHigh: med(lat.high, s => s.cpuUsPerDelivery),
      redisUsAtCommon: med(lat.common, s => s.redisUsPerMessage),
      rssMbAtCommon: med(lat.common, s => s.rssMb),
      rssMbAtPeak: med(rounds, r => r.best?.rssMb),
      high: { p50: med(lat.high, s => s.latencyMs.p50), p99: med(lat.high, s => s.latencyMs.p99) },
      loadgenUsAtCommon: med(lat.common, s => s.loadgenUsPerDelivery),
      common: {
        p50: med(lat.common, s => s.latencyMs.p50),
        p90: med(lat.common, s => s.latencyMs.p90),
        p99: med(lat.common, s => s.latencyMs.p99),
        max: med(lat.common, s => s.latencyMs.max),
        loss: med(lat.common, loss)
      },
      ownHalfRate: lat.ownHalfRate,
      own: {
        p50: med(lat.own, s => s.latencyMs.p50),
        p99: med(lat.own, s => s.latencyMs.p99),
        max: med(lat.own, s => s.latencyMs.max),
        loss: med(lat.own, loss)
      }
    }
  }
  return out
}

/**
 * The goals differ by shape: 10 x 100 keeps the history issue's (>= 0.8x the floor, p99 <= 1.5x);
 * the small rooms ask >= 0.9x the floor and ahead of Socket.IO.
 */
const THROUGHPUT_GOALS = {
  fanout: { goal: '>= 0.8x floor', ok: (c, f) => c >= 0.8 * f },
  'small-rooms': { goal: '>= 0.9x floor, > Socket.IO', ok: (c, f, io) => c >= 0.9 * f && (io === null || c > io) }
}

export function fanoutRows (key, { commonRate, highRate }, members) {
  const at = (rate) => `${rate} msg/s = ${fmt(rate * members)} deliveries/s`
  const pct = (v) => v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`
  return [
    { label: 'highest sustained deliveries/s', pick: s => s.maxDeliveriesPerSec, ...THROUGHPUT_GOALS[key] },
    { label: `server CPU µs per delivery, common rate (${at(commonRate)})`, pick: s => s.cpuUsAtCommon, goal: '<= 1.2x floor', ok: (c, f) => c <= 1.2 * f },
    { label: `server CPU µs per delivery, high rate (${at(highRate)})`, pick: s => s.cpuUsAtHigh },
    { label: 'server CPU µs per delivery, at own peak', pick: s => s.cpuUsAtPeak },
    { label: 'Redis CPU µs per message, common rate (INFO cpu)', pick: s => s.redisUsAtCommon },
    { label: 'server RSS MiB (both instances), common rate / own peak', pick: s => s.rssMbAtCommon, show: (v, s) => `${fmt(v)} / ${fmt(s.rssMbAtPeak)}` },
    { label: 'p50 latency ms, common rate', pick: s => s.common.p50 },
    { label: 'p90 latency ms, common rate', pick: s => s.common.p90 },
    {
      label: 'p99 latency ms, common rate',
      pick: s => s.common.p99,
      goal: key === 'fanout' ? '<= 1.5x floor' : undefined,
      ok: (c, f) => c <= 1.5 * f
    },
    { label: 'max latency ms, common rate', pick: s => s.common.max },
    { label: 'loss, common rate', pick: s => s.common.loss, show: pct, ratios: false },
    { label: 'p50 / p99 ms, high rate', pick: s => s.high.p99, show: (v, s) => v === null ? 'n/a' : `${fmt(s.high.p50)} / ${fmt(v)}` },
    { label: 'p50 / p99 ms, half of own peak', pick: s => s.own.p99, show: (v, s) => `${fmt(s.own.p50)} / ${fmt(v)}` },
    { label: 'load generator cores at own peak', pick: s => s.loadgenCoresAtPeak, show: v => fmt(v, 2), ratios: false },
    {
      label: 'servers / load generator cores at the first failing rate',
      pick: s => s.serverCoresAtFail,
      show: (v, s) => `${fmt(v, 2)} / ${fmt(s.loadgenCoresAtFail, 2)}`,
      ratios: false
    }
  ]
}
