/** The idle and churn scenarios' medians and table rows. */
import { fmt, median } from './stats.mjs'

const med = (xs, f) => median(xs.map(f))

/** Older runs lack the newer fields: those cells read n/a. */
const orNull = (v) => v === undefined ? null : v

export function summariseIdle (scenario, names) {
  return Object.fromEntries(names.map(name => {
    const rounds = scenario.targets[name] ?? []
    return [name, {
      kbPerConn: med(rounds, r => r.perConnKb),
      connectS: med(rounds, r => r.connectMs / 1000),
      idleCorePct: med(rounds, r => r.idleCores === undefined ? null : r.idleCores * 100),
      heartbeatUs: med(rounds, r => orNull(r.heartbeatUs)),
      heartbeatsPerSocket: med(rounds, r => r.heartbeats === undefined ? null : r.heartbeats / scenario.sockets),
      redisBytesPerSocket: med(rounds, r => orNull(r.redisBytesPerSocket)),
      loadedMb: med(rounds, r => r.loadedKb / 1024)
    }]
  }))
}

export function idleRows (scenario) {
  const instances = scenario.instances ?? 1
  const all = instances > 1 ? `, all ${instances} instances` : ''
  return [
    { label: `RSS KiB per socket (after GC${all})`, pick: s => s.kbPerConn, goal: '<= 1.1x floor', ok: (c, f) => c <= 1.1 * f },
    { label: `RSS MiB with every socket open${all}`, pick: s => s.loadedMb },
    { label: `time to connect ${scenario.sockets} sockets, s`, pick: s => s.connectS, goal: '<= 1.5x floor', ok: (c, f) => c <= 1.5 * f },
    { label: `server CPU while idle, % of a core${all} (over ${scenario.idleCpuS ?? '?'} s)`, pick: s => s.idleCorePct },
    {
      label: 'heartbeat cost, server CPU µs per socket per round (rounds seen per socket)',
      pick: s => s.heartbeatUs,
      show: (v, s) => v === null ? 'n/a' : `${fmt(v)} (${fmt(s.heartbeatsPerSocket)})`
    },
    { label: 'Redis memory per socket, bytes (INFO used_memory)', pick: s => s.redisBytesPerSocket }
  ]
}

export function summariseChurn (scenario, names) {
  return Object.fromEntries(names.map(name => {
    const { rounds, leftovers } = scenario.targets[name]
    return [name, {
      perInstancePerSec: med(rounds, r => r.perInstancePerSec),
      lifeP50: med(rounds, r => r.cycleMs.p50),
      lifeP99: med(rounds, r => r.cycleMs.p99),
      listenersP99: med(rounds, r => r.latencyMs.p99),
      cpuUsPerConnection: med(rounds, r => r.cpuUsPerConnection),
      redisUsPerConnection: med(rounds, r => r.redisUsPerConnection),
      rssMb: med(rounds, r => r.rssMb ?? null),
      failed: rounds.reduce((a, r) => a + r.failed, 0),
      delivered: med(rounds, r => r.expected > 0 ? r.delivered / r.expected : null),
      leftovers
    }]
  }))
}

export function churnRows () {
  const pct = (v) => v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`
  return [
    { label: 'connections per second per instance', pick: s => s.perInstancePerSec, goal: '>= 0.8x floor', ok: (c, f) => c >= 0.8 * f },
    { label: 'a connection\'s life p50 / p99 ms (open, join 2, send, echo)', pick: s => s.lifeP99, show: (v, s) => `${fmt(s.lifeP50)} / ${fmt(v)}` },
    { label: 'listeners\' p99 latency ms', pick: s => s.listenersP99 },
    { label: 'server CPU µs per connection', pick: s => s.cpuUsPerConnection },
    { label: 'Redis CPU µs per connection', pick: s => s.redisUsPerConnection },
    { label: 'server RSS MiB (both instances) after a step', pick: s => s.rssMb },
    { label: 'messages delivered to the listeners', pick: s => s.delivered, show: pct, ratios: false },
    { label: 'failed connections (all rounds)', pick: s => s.failed, ratios: false },
    {
      label: 'left in /ws/stats afterwards (connections, rooms per instance)',
      pick: s => s.leftovers === null ? null : s.leftovers.reduce((a, l) => a + l.connections + l.rooms, 0),
      show: (v, s) => s.leftovers === null ? 'n/a' : s.leftovers.map(l => `${l.connections}, ${l.rooms}`).join(' / '),
      ratios: false,
      goal: 'none',
      needsFloor: false,
      ok: (c) => c === 0
    }
  ]
}
