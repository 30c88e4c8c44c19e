#!/usr/bin/env node
/**
 * What group commit saves (src/redis/turn-batch.ts): Redis CPU per stored message and script calls
 * per message, and what it costs a lone message (ack p50 at low load), on a redis-server of this
 * run only (its `used_cpu_sys + used_cpu_user` and INFO commandstats count nobody else's work).
 * Modes, in one process, against the same server: `off` (one call per message: every call closed
 * at its first item), `microtask` (flush in a microtask), `immediate` (flush with setImmediate,
 * what the service does).
 *
 *   npm run build && node bench/group-commit.mjs [--sockets 200] [--messages 20000] [--lone 500]
 */
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { buildApp } from '../dist/app.js'
import { APPEND_BATCH } from '../dist/history/redis-history.js'
import { turnEnd } from '../dist/redis/turn-batch.js'
import { ackSocket } from './lib/ack-socket.mjs'
import { startRedisServer } from './lib/redis.mjs'
import { percentile } from './lib/stats.mjs'

const { values } = parseArgs({ options: { modes: { type: 'string', default: 'off,microtask,immediate' }, sockets: { type: 'string', default: '200' }, messages: { type: 'string', default: '20000' }, lone: { type: 'string', default: '500' } } })
const SOCKETS = Number(values.sockets)
const MESSAGES = Number(values.messages)
const LONE = Number(values.lone)

/** Redis CPU (µs) and script calls so far. */
async function redisCounters (admin) {
  const cpu = await admin.info('cpu')
  const num = name => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)[1])
  const stats = await admin.info('commandstats')
  let calls = 0
  for (const m of stats.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(m[2])
  return { cpuUs: (num('used_cpu_sys') + num('used_cpu_user')) * 1e6, calls }
}

async function run (redisPort, admin, mode) {
  // `immediate/N`: setImmediate, at most N messages per call.
  APPEND_BATCH.items = mode === 'off' ? 1 : Number(mode.split('/')[1] ?? 256)
  turnEnd.schedule = mode === 'microtask' ? queueMicrotask : setImmediate
  const app = await buildApp({ config: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_CHANNEL_PREFIX: `gc-${mode.replace('/', '-')}-${Date.now()}`, WS_RATE_LIMIT_PER_SEC: 0, LOG_LEVEL: 'silent', PRESENCE_ENABLED: false, METRICS_ENABLED: false } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  // Low load: one socket, one message at a time.
  const lone = await ackSocket(port, 'lone')
  const latencies = []
  for (let i = 0; i < LONE; i++) {
    const started = performance.now()
    await lone.send()
    latencies.push(performance.now() - started)
  }
  latencies.sort((a, b) => a - b)
  // Load: every socket in a room of its own, one message in flight each, as fast as acks come.
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, (_, i) => ackSocket(port, `room-${i}`)))
  const before = await redisCounters(admin)
  const started = performance.now()
  let sent = 0
  await Promise.all(sockets.map(async s => {
    while (sent < MESSAGES) {
      sent++
      await s.send()
    }
  }))
  const seconds = (performance.now() - started) / 1000
  const after = await redisCounters(admin)
  for (const s of [lone, ...sockets]) s.ws.close()
  await app.close()
  return { mode, p50: percentile(latencies, 0.5), rate: MESSAGES / seconds, cpuPerMsg: (after.cpuUs - before.cpuUs) / MESSAGES, perCall: MESSAGES / (after.calls - before.calls) }
}

const redis = await startRedisServer()
const admin = new Redis(redis.port)
try {
  console.log(`lone: ${LONE} sequential sends; load: ${SOCKETS} sockets x 1 in flight, ${MESSAGES} messages`)
  console.log('| mode | lone ack p50 (ms) | messages/s under load | Redis CPU per message (µs) | messages per script call |')
  console.log('|---|---|---|---|---|')
  const modes = values.modes.split(',')
  for (const mode of [...modes, ...modes]) {
    const r = await run(redis.port, admin, mode)
    console.log(`| ${r.mode} | ${r.p50.toFixed(2)} | ${Math.round(r.rate)} | ${r.cpuPerMsg.toFixed(1)} | ${r.perCall.toFixed(1)} |`)
  }
} finally {
  admin.disconnect()
  redis.child.kill('SIGKILL')
}
