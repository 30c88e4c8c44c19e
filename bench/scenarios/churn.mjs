/**
 * The churn scenario: while 1 000 listeners receive (10 rooms x 100 over the two instances),
 * short-lived connections open, join two of those rooms, send one message, get it back and close,
 * `concurrency` at a time for `durationMs` (bench/lib/churn.mjs). Reports connections per second
 * per instance, the time a connection's life takes, the listeners' latency, server CPU per
 * connection, and whether every instance's stats are empty again once all have closed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuMs, rssKb } from '../lib/proc.mjs'
import { redisCpuMs } from '../lib/redis.mjs'
import { startInstances, stopInstances } from '../lib/servers.mjs'
import { TARGETS } from '../lib/targets.mjs'
import { CHURN_LISTENERS } from '../lib/churn.mjs'

const CONCURRENCY = 50
const GRACE_MS = 1000

/** What `/ws/stats` still counts on each chat-api instance once every socket closed (null: not chat-api). */
export async function leftovers (instances, name) {
  if (TARGETS[name].script !== 'dist/server.js') return null
  const counts = []
  for (const { port } of instances) {
    const stats = await (await fetch(`http://127.0.0.1:${port}/api/chat-api/ws/stats`)).json()
    counts.push({ connections: stats.connections, rooms: Object.keys(stats.rooms).length })
  }
  return counts
}

/** One churn step on running instances whose listeners are open; CPU read around it. */
export async function churnStep (run, name, instances, { durationMs, concurrency, rate }) {
  const { lg, protocolOf, redisUrl } = run
  const pids = instances.map(i => i.pid)
  const sum = (xs) => xs.reduce((a, b) => a + b, 0)
  const cpuBefore = sum(pids.map(cpuMs))
  const redisBefore = await redisCpuMs(redisUrl)
  const res = await lg.ask('churn-run', {
    protocol: protocolOf(name), ports: instances.map(i => i.port), durationMs, concurrency, rate, stepId: run.nextStepId(), graceMs: GRACE_MS
  })
  const serverCpuMs = sum(pids.map(cpuMs)) - cpuBefore
  const redisMs = await redisCpuMs(redisUrl) - redisBefore
  return {
    ...res,
    perInstancePerSec: res.cyclesPerSec / instances.length,
    cpuUsPerConnection: res.cycles > 0 ? serverCpuMs * 1000 / res.cycles : null,
    redisUsPerConnection: res.cycles > 0 ? redisMs * 1000 / res.cycles : null,
    // Both instances, at the end of the step (the listeners still open).
    rssMb: sum(pids.map(rssKb)) / 1024
  }
}

export async function churnScenario (run, { durationMs }) {
  const { lg, names, rounds, redisUrl, runId, log, protocolOf } = run
  const fleets = {}
  for (const name of names) {
    fleets[name] = await startInstances(name, 2, { redisUrl, prefix: `${runId}-churn-${name}` })
    await lg.ask('churn-listen', { target: name, protocol: protocolOf(name), ports: fleets[name].map(i => i.port) })
    await churnStep(run, name, fleets[name], { durationMs: 1000, concurrency: CONCURRENCY }) // warm-up
  }
  const results = Object.fromEntries(names.map(n => [n, { rounds: [], leftovers: null }]))
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const s = await churnStep(run, name, fleets[name], { durationMs, concurrency: CONCURRENCY })
      log(`${name.padEnd(8)} churn: ${Math.round(s.perInstancePerSec)} connections/s per instance (${s.failed} failed), ` +
        `life p50/p99 ${s.cycleMs.p50}/${s.cycleMs.p99} ms, listeners p99 ${s.latencyMs.p99} ms ` +
        `(${s.delivered}/${s.cycles * CHURN_LISTENERS}), ${s.cpuUsPerConnection?.toFixed(0)} µs CPU/connection`)
      results[name].rounds.push(s)
    }
  }
  for (const name of names) {
    await lg.ask('churn-close', { target: name })
    await sleep(1000) // stats drop within a second of a disconnect
    results[name].leftovers = await leftovers(fleets[name], name)
    if (results[name].leftovers !== null) log(`${name}: left in stats after churn: ${JSON.stringify(results[name].leftovers)}`)
    await stopInstances(fleets[name])
  }
  return { concurrency: CONCURRENCY, durationMs, listeners: 1000, targets: results }
}
