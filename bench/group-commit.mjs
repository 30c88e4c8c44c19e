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
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import WebSocket from 'ws'
import { buildApp } from '../dist/app.js'
import { APPEND_BATCH } from '../dist/history/redis-history.js'
import { turnEnd } from '../dist/redis/turn-batch.js'

const { values } = parseArgs({ options: { modes: { type: 'string', default: 'off,microtask,immediate' }, sockets: { type: 'string', default: '200' }, messages: { type: 'string', default: '20000' }, lone: { type: 'string', default: '500' } } })
const SOCKETS = Number(values.sockets)
const MESSAGES = Number(values.messages)
const LONE = Number(values.lone)

async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

async function redisServer () {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve, reject) => {
    let log = ''
    child.stdout.on('data', chunk => {
      log += chunk
      if (log.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', code => reject(new Error(`redis-server exited with ${code}`)))
  })
  return { port, child }
}

/** Redis CPU (µs) and script calls so far. */
async function redisCounters (admin) {
  const cpu = await admin.info('cpu')
  const num = name => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)[1])
  const stats = await admin.info('commandstats')
  let calls = 0
  for (const m of stats.matchAll(/^cmdstat_(evalsha|eval):calls=(\d+)/gm)) calls += Number(m[2])
  return { cpuUs: (num('used_cpu_sys') + num('used_cpu_user')) * 1e6, calls }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]

async function socket (port, room) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/chat-api/ws/${room}`)
  const waiting = new Map()
  ws.on('message', data => {
    const frame = JSON.parse(data)
    const done = waiting.get(frame.id)
    if (done !== undefined && (frame.type === 'ack' || frame.type === 'error')) {
      waiting.delete(frame.id)
      done(frame)
    }
  })
  await once(ws, 'open')
  let id = 0
  const send = () => new Promise(resolve => {
    const frameId = ++id
    waiting.set(frameId, resolve)
    ws.send(JSON.stringify({ type: 'message', room, id: frameId, data: 'x'.repeat(100) }))
  })
  return { ws, send }
}

async function run (redisPort, admin, mode) {
  // `immediate/N`: setImmediate, at most N messages per call.
  APPEND_BATCH.items = mode === 'off' ? 1 : Number(mode.split('/')[1] ?? 256)
  turnEnd.schedule = mode === 'microtask' ? queueMicrotask : setImmediate
  const app = await buildApp({ config: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_CHANNEL_PREFIX: `gc-${mode.replace('/', '-')}-${Date.now()}`, WS_RATE_LIMIT_PER_SEC: 0, LOG_LEVEL: 'silent', PRESENCE_ENABLED: false, METRICS_ENABLED: false } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address()
  // Low load: one socket, one message at a time.
  const lone = await socket(port, 'lone')
  const latencies = []
  for (let i = 0; i < LONE; i++) {
    const started = performance.now()
    await lone.send()
    latencies.push(performance.now() - started)
  }
  latencies.sort((a, b) => a - b)
  // Load: every socket in a room of its own, one message in flight each, as fast as acks come.
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, (_, i) => socket(port, `room-${i}`)))
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

const redis = await redisServer()
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
