#!/usr/bin/env node
/**
 * `npm run bench`: chat-api against Socket.IO (+ Redis adapter) and a plain ws floor, all in one
 * run, interleaved round by round (floor, chat-api, Socket.IO, floor, ...). Two instances of each
 * target share one Redis; one load generator process drives them. Prints a markdown table and
 * writes bench/results/<date>.md and .json.
 *
 *   npm run bench                          # 3 rounds, every scenario
 *   npm run bench -- --rounds 1 --targets floor,socketio --idle 2000
 *   npm run bench -- --profile             # chat-api alone under --cpu-prof, top functions printed
 *   npm run bench -- --targets floor,chat-api,chat-api-nometrics --idle 0   # metrics on vs off
 *   npm run bench -- --redis cluster --rounds 1   # Redis CPU per shard: one Redis vs a 3-master cluster
 *   npm run bench -- --targets floor --idle 0 --churn 5000   # only the churn scenario (presence on vs off)
 *
 * The churn scenario (bench/lib/churn.mjs) runs `--churn` ms per round on `--churn-targets`.
 *
 * Only 127.0.0.1 is used; every load is bounded in count and time; every process is stopped.
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { findOrStartRedis, redisCpuMs } from './lib/redis.mjs'
import { startLoadgen } from './lib/loadgen-client.mjs'
import { cpuMs, killAllNow, machineBusyMs, stop, stopAll } from './lib/proc.mjs'
import { settledRssKb, startInstances, stopInstances } from './lib/servers.mjs'
import { ROOT, TARGETS } from './lib/targets.mjs'
import { median } from './lib/stats.mjs'
import { writeReport } from './lib/report.mjs'
import { profileChatApi } from './lib/profile.mjs'
import { clusterBench } from './lib/cluster-bench.mjs'
import { churn } from './lib/churn.mjs'

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    targets: { type: 'string', default: 'floor,chat-api,socketio' },
    'step-ms': { type: 'string', default: '2000' },
    'latency-ms': { type: 'string', default: '3000' },
    idle: { type: 'string', default: '10000' },
    'skip-build': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    /** `single` (the comparison of targets) or `cluster` (bench/lib/cluster-bench.mjs). */
    redis: { type: 'string', default: 'single' },
    /** Message rate of the `--redis cluster` steps. */
    rate: { type: 'string', default: '1000' },
    'sio-client': { type: 'string', default: 'official' },
    out: { type: 'string' },
    churn: { type: 'string', default: '5000' },
    'churn-targets': { type: 'string', default: 'chat-api,chat-api-nopresence' }
  }
})
const ROUNDS = Number(opts.rounds)
const NAMES = opts.targets.split(',')
const STEP_MS = Number(opts['step-ms'])
const LATENCY_MS = Number(opts['latency-ms'])
const IDLE_SOCKETS = Number(opts.idle)
const ROOMS = 10
const MEMBERS = 100
const GRACE_MS = 1000
const MIN_DELIVERED = 0.95
const MAX_P99_MS = 100
const MAX_STEPS = 20
if (!['single', 'cluster'].includes(opts.redis)) throw new Error('--redis is "single" or "cluster"')
const CHURN_MS = Number(opts.churn)
const CHURN_NAMES = opts['churn-targets'].split(',')
if (!['official', 'raw'].includes(opts['sio-client'])) throw new Error('--sio-client is "official" (socket.io-client) or "raw"')
/** The load generator's client for a target; `--sio-client raw` swaps socket.io-client for a bare one. */
const protocolOf = (name) => name === 'socketio' && opts['sio-client'] === 'raw' ? 'sio-raw' : TARGETS[name].protocol
for (const name of [...NAMES, ...CHURN_NAMES]) if (!TARGETS[name]) throw new Error(`unknown target "${name}" (${Object.keys(TARGETS).join(', ')})`)

const runId = `bench-${Date.now().toString(36)}`
const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args)
let stepSeq = 0
/** The run's Redis, whose CPU each step reads. */
let benchRedisUrl = null

function onFatal (err) {
  console.error(err)
  killAllNow()
  process.exit(1)
}
process.on('SIGINT', () => onFatal(new Error('interrupted')))
process.on('SIGTERM', () => onFatal(new Error('terminated')))

/** One step at `rate` messages/s, with the servers' and load generator's CPU read around it. */
async function measuredStep (lg, name, instances, rate, durationMs) {
  const pids = instances.map(i => i.pid)
  const sum = (xs) => xs.reduce((a, b) => a + b, 0)
  const cpuBefore = sum(pids.map(cpuMs))
  const lgBefore = cpuMs(lg.pid)
  const busyBefore = machineBusyMs()
  const redisBefore = await redisCpuMs(benchRedisUrl)
  const started = performance.now()
  const res = await lg.ask('step', { target: name, rate, durationMs, graceMs: GRACE_MS, stepId: ++stepSeq })
  const wallMs = performance.now() - started
  const redisMs = await redisCpuMs(benchRedisUrl) - redisBefore
  const messages = res.expected / MEMBERS
  const serverCpuMs = sum(pids.map(cpuMs)) - cpuBefore
  const loadgenCpuMs = cpuMs(lg.pid) - lgBefore
  // Everything else the machine did meanwhile: Redis, the kernel, and whatever else is running.
  const otherCpuMs = machineBusyMs() - busyBefore - serverCpuMs - loadgenCpuMs
  const pass = res.delivered >= MIN_DELIVERED * res.expected && res.latencyMs.p99 !== null && res.latencyMs.p99 <= MAX_P99_MS
  return {
    ...res,
    rate,
    offeredDeliveriesPerSec: rate * MEMBERS,
    pass,
    serverCpuMs,
    cpuUsPerDelivery: res.delivered > 0 ? serverCpuMs * 1000 / res.delivered : null,
    serverCores: serverCpuMs / wallMs,
    loadgenCores: loadgenCpuMs / wallMs,
    otherCores: otherCpuMs / wallMs,
    loadgenUsPerDelivery: res.delivered > 0 ? loadgenCpuMs * 1000 / res.delivered : null,
    redisUsPerMessage: messages > 0 ? redisMs * 1000 / messages : null
  }
}

function describe (name, s) {
  return `${name.padEnd(8)} ${String(Math.round(s.rate)).padStart(6)} msg/s -> ${Math.round(s.deliveredPerSec).toString().padStart(7)} deliveries/s ` +
    `(${(100 * s.delivered / s.expected).toFixed(1)}%) p99 ${s.latencyMs.p99 ?? '-'} ms, ` +
    `servers ${s.serverCores.toFixed(2)} cores ${s.cpuUsPerDelivery?.toFixed(2)} µs/delivery, loadgen ${s.loadgenCores.toFixed(2)}, other ${s.otherCores.toFixed(2)} cores ${s.pass ? '' : 'FAIL'}`
}

/**
 * Steps the offered rate up by `coarse` until a step fails, then retries from the last passing
 * rate by 8% steps up to the failing one. A failure is confirmed by a second try at the same rate,
 * since on a shared machine one burst from a neighbour can spoil a step. The best passing step is
 * the sustained rate.
 */
async function ramp (lg, name, instances, startRate, coarse) {
  const steps = []
  const tryRate = async (rate) => {
    let s = await measuredStep(lg, name, instances, rate, STEP_MS)
    log(describe(name, s))
    steps.push(s)
    if (!s.pass) {
      await sleep(GRACE_MS) // let the backlog of an overloaded step drain before the next one
      s = await measuredStep(lg, name, instances, rate, STEP_MS)
      log(describe(name, s), '(confirming)')
      steps.push(s)
      if (!s.pass) await sleep(GRACE_MS)
    }
    return s
  }
  let rate = startRate
  let factor = coarse
  let lastPass = null
  let failedAt = Infinity
  let failed = null
  while (steps.length < MAX_STEPS) {
    const s = await tryRate(rate)
    if (s.pass) {
      lastPass = rate
    } else {
      failedAt = Math.min(failedAt, rate)
      failed ??= s
      if (lastPass === null) {
        // Even the first rate failed (a busy machine, or a start set from a lucky round): go lower.
        if (rate <= 50) break
        rate = Math.round(rate / 2)
        continue
      }
      if (factor <= 1.08) break
      factor = 1.08
    }
    rate = Math.round(lastPass * factor)
    if (rate >= failedAt * 0.98) break
  }
  const passing = steps.filter(s => s.pass)
  const best = passing.reduce((a, b) => (a === null || b.deliveredPerSec > a.deliveredPerSec ? b : a), null)
  return { best, failed, steps }
}

async function fanout (lg, redisUrl) {
  const fleets = {}
  for (const name of NAMES) {
    const instances = await startInstances(name, 2, { redisUrl, prefix: `${runId}-${name}` })
    const setup = await lg.ask('setup', { target: name, protocol: protocolOf(name), ports: instances.map(i => i.port), rooms: ROOMS, members: MEMBERS })
    log(`${name}: ${setup.sockets} sockets connected in ${Math.round(setup.connectMs)} ms`)
    fleets[name] = instances
    await measuredStep(lg, name, instances, 200, 1000) // JIT warm-up, not counted
  }
  const fan = Object.fromEntries(NAMES.map(n => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of NAMES) {
      const previous = median(fan[name].map(r => r.best?.rate))
      const result = previous === null
        ? await ramp(lg, name, fleets[name], 100, 1.6)
        : await ramp(lg, name, fleets[name], Math.round(previous * 0.6), 1.25)
      fan[name].push(result)
    }
  }

  // Latency at half of each target's own sustained rate, and at one rate every target sustains.
  // CPU per delivery depends on the rate (more messages per socket write as it rises), so it is
  // also compared at a high rate that both ws targets sustain.
  const ownHalf = Object.fromEntries(NAMES.map(n => [n, Math.round((median(fan[n].map(r => r.best?.rate)) ?? 200) / 2)]))
  const commonRate = Math.min(...Object.values(ownHalf))
  const wsTargets = NAMES.filter(n => TARGETS[n].protocol === 'chat')
  const highRate = wsTargets.length > 0 ? Math.min(...wsTargets.map(n => ownHalf[n])) : null
  const latency = Object.fromEntries(NAMES.map(n => [n, { ownHalfRate: ownHalf[n], own: [], common: [], high: [] }]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of NAMES) {
      const steps = new Map()
      const at = async (rate, what) => {
        if (!steps.has(rate)) {
          const s = await measuredStep(lg, name, fleets[name], rate, LATENCY_MS)
          log(describe(name, s), `(${what})`)
          steps.set(rate, s)
        }
        return steps.get(rate)
      }
      latency[name].common.push(await at(commonRate, 'common rate'))
      latency[name].own.push(await at(ownHalf[name], 'half of own peak'))
      if (highRate !== null && highRate <= ownHalf[name]) latency[name].high.push(await at(highRate, 'high common rate'))
    }
  }
  for (const name of NAMES) {
    await lg.ask('teardown', { target: name })
    await stopInstances(fleets[name])
  }
  return { fanout: fan, latency: { commonRate, highRate, targets: latency } }
}

async function idle (lg, redisUrl) {
  const results = Object.fromEntries(NAMES.map(n => [n, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of NAMES) {
      const [instance] = await startInstances(name, 1, { redisUrl, prefix: `${runId}-idle-${name}` })
      try {
        const baselineKb = await settledRssKb(instance)
        const open = await lg.ask('idle-open', { protocol: protocolOf(name), port: instance.port, count: IDLE_SOCKETS, concurrency: 200 })
        const loadedKb = await settledRssKb(instance)
        const perConnKb = (loadedKb - baselineKb) / IDLE_SOCKETS
        log(`${name}: ${IDLE_SOCKETS} idle sockets in ${Math.round(open.connectMs)} ms, RSS ${baselineKb} -> ${loadedKb} KiB, ${perConnKb.toFixed(2)} KiB/socket`)
        results[name].push({ baselineKb, loadedKb, perConnKb, connectMs: open.connectMs })
        await lg.ask('idle-close')
      } finally {
        await stopInstances([instance])
      }
    }
  }
  return results
}

function machine () {
  const cpuinfo = spawnSync('sh', ['-c', 'grep -m1 "model name" /proc/cpuinfo']).stdout.toString()
  return {
    loadAverage: loadavg().map(l => l.toFixed(2)).join(' '),
    nproc: Number(spawnSync('nproc').stdout.toString().trim()),
    cpuModel: cpuinfo.split(':')[1]?.trim() ?? 'unknown',
    node: process.version
  }
}

async function main () {
  const began = performance.now()
  const host = machine()
  if ([...NAMES, ...CHURN_NAMES].some(name => TARGETS[name].script === 'dist/server.js') && !opts['skip-build']) {
    log('building chat-api (npm run build)')
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] })
    if (build.status !== 0) throw new Error('npm run build failed')
  }
  const redis = await findOrStartRedis()
  benchRedisUrl = redis.url
  log(`redis ${redis.url}${redis.child ? ' (started for this run)' : ''}, channel prefix ${runId}-*`)
  const lg = startLoadgen()
  try {
    if (opts.profile) return await profileChatApi({ lg, redisUrl: redis.url, runId, measuredStep, ramp, log })
    if (opts.redis === 'cluster') {
      const { results, markdown } = await clusterBench({ lg, log, single: redis, runId, rate: Number(opts.rate), stepMs: STEP_MS, rounds: ROUNDS })
      const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`
      const report = `${markdown}\n\nMachine: ${host.nproc} cores (${host.cpuModel}), load average ${host.loadAverage} at the start, Node ${host.node}. Command: \`${command}\`.\n`
      console.log(report)
      const file = opts.out ?? join(ROOT, 'bench/results', `${new Date().toISOString().slice(0, 10)}-cluster`)
      writeFileSync(`${file}.md`, report)
      writeFileSync(`${file}.json`, JSON.stringify({ date: new Date().toISOString(), command, machine: host, results }, null, 2))
      log(`wrote ${file}.md and .json`)
      return
    }
    const fan = await fanout(lg, redis.url)
    const idleResults = IDLE_SOCKETS > 0 ? await idle(lg, redis.url) : null
    const churnResults = CHURN_MS > 0
      ? await churn({ names: CHURN_NAMES, rounds: ROUNDS, durationMs: CHURN_MS, redisUrl: redis.url, runId, log })
      : null
    const results = {
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
      machine: host,
      redis: redis.child ? 'redis-server started by the run' : redis.url,
      params: { sioClient: opts['sio-client'], rounds: ROUNDS, targets: NAMES, rooms: ROOMS, members: MEMBERS, dataBytes: 100, stepMs: STEP_MS, latencyMs: LATENCY_MS, graceMs: GRACE_MS, idleSockets: IDLE_SOCKETS, minDelivered: MIN_DELIVERED, maxP99Ms: MAX_P99_MS },
      ...fan,
      idle: idleResults,
      churn: churnResults,
      durationS: (performance.now() - began) / 1000
    }
    const { markdown, files } = await writeReport(results, opts.out)
    console.log(markdown)
    log(`wrote ${files.join(' and ')} in ${Math.round(results.durationS)} s`)
  } finally {
    await stop(lg.child)
    await stopAll()
  }
}

main().catch(onFatal)
