#!/usr/bin/env node
/**
 * What read state costs on the message path, in the small-rooms shape (rooms of 4 members, 2 on
 * each of two instances, one of them sending): the same load run four times, each on fresh
 * instances and a Redis of its own (started here on a free port, stopped at the end):
 *
 * - `auth-off`: no users, so no cursor moves at all (the version-2 path);
 * - `no-reads`: auth on; each stored message moves its sender's cursor (batched after the ack);
 * - `per-message`: and every listener sends `read` for every message it receives (the worst case);
 * - `debounced`: every listener marks every message through the typed client's ReadMarker (one
 *   `read` per room per second at most, the client's default).
 *
 * Reported per mode: chat-api CPU and Redis CPU per delivered message (both instances, CPU time
 * of the processes and INFO cpu), `read` frames sent in all and per delivery, and delivery latency
 * (p50/p99, from the message's `ts`; on a loaded machine the load generator's own lag is in it).
 *
 *   npm run build && node bench/read-state.mjs [--rooms 250] [--rate 500] [--seconds 10]
 */
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { createSigner } from 'fast-jwt'
import { ReadMarker } from '../dist/client/read-marker.js'
import { findOrStartRedis, redisCpuMs } from './lib/redis.mjs'
import { cpuMs, freePort, start, stop, stopAll, waitForPort } from './lib/proc.mjs'

const { values } = parseArgs({
  options: {
    rooms: { type: 'string', default: '250' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'auth-off,no-reads,per-message,debounced' }
  }
})
const ROOMS = Number(values.rooms)
const RATE = Number(values.rate)
const SECONDS = Number(values.seconds)
const SECRET = 'read-state-bench-secret-0123456789abcdef'
const sign = createSigner({ key: SECRET })
const log = (...args) => console.error(`[read-state ${new Date().toISOString().slice(11, 19)}]`, ...args)

async function instances (redisUrl, mode) {
  const env = {
    REDIS_URL: redisUrl,
    REDIS_CHANNEL_PREFIX: `rsbench-${mode}`,
    WS_RATE_LIMIT_PER_SEC: '0',
    WS_JOIN_RATE_PER_SEC: '0',
    HTTP_RATE_LIMIT_PER_MIN: '0',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
    DEMO_ENABLED: 'false',
    ...(mode === 'auth-off' ? {} : { AUTH_ENABLED: 'true', JWT_SECRET: SECRET })
  }
  const out = []
  for (let i = 0; i < 2; i++) {
    const port = await freePort()
    const child = start(`chat-api#${i}`, process.execPath, ['dist/server.js'], { env: { ...env, PORT: String(port) } })
    out.push({ child, port })
  }
  try {
    await Promise.all(out.map(({ port, child }) => waitForPort(port, child, 90_000)))
  } catch (err) {
    throw new Error(`${err.message}: ${out.map(({ child }) => child.outputTail).join('\n')}`)
  }
  return out
}

function socket (port, room, user) {
  const query = user === null ? '' : `?access_token=${sign({ sub: user })}`
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/chat-api/ws/${room}${query}`)
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.on('message', function first (data) {
      if (JSON.parse(data).type !== 'welcome') return
      ws.off('message', first)
      resolve(ws)
    })
  })
}

async function run (mode) {
  const redis = await findOrStartRedis()
  const servers = await instances(redis.url, mode)
  const latencies = []
  let delivered = 0
  let reads = 0
  const listeners = []
  const senders = []
  for (let r = 0; r < ROOMS; r++) {
    const room = `room${r}`
    const user = (i) => mode === 'auth-off' ? null : `u${r}-${i}`
    senders.push(await socket(servers[0].port, room, user(0)))
    for (const [i, port] of [[1, servers[0].port], [2, servers[1].port], [3, servers[1].port]]) {
      const ws = await socket(port, room, user(i))
      const marker = new ReadMarker(async (markRoom, offset) => {
        reads++
        ws.send(JSON.stringify({ type: 'read', room: markRoom, offset }))
        return { type: 'read', room: markRoom, offset, epoch: '' }
      })
      ws.on('message', (data) => {
        const frame = JSON.parse(data)
        if (frame.type !== 'message') return
        delivered++
        latencies.push(Date.now() - frame.ts)
        if (mode === 'per-message') {
          reads++
          ws.send(`{"type":"read","room":"${room}","offset":${frame.offset}}`)
        } else if (mode === 'debounced') marker.mark(room, frame.offset).catch(() => {})
      })
      listeners.push({ ws, marker })
    }
  }
  await sleep(1000)
  const cpu0 = servers.reduce((sum, s) => sum + cpuMs(s.child.pid), 0)
  const redis0 = await redisCpuMs(redis.url)
  const began = performance.now()
  const total = RATE * SECONDS
  for (let sent = 0; sent < total;) {
    const due = Math.min(total, Math.floor((performance.now() - began) / 1000 * RATE))
    for (; sent < due; sent++) senders[sent % ROOMS].send(`{"type":"message","room":"room${sent % ROOMS}","data":${sent}}`)
    await sleep(5)
  }
  const expected = total * 3
  const deadline = Date.now() + 30_000
  // `delivered` grows in the sockets' listeners, between these sleeps.
  // eslint-disable-next-line no-unmodified-loop-condition
  while (delivered < expected && Date.now() < deadline) await sleep(50)
  for (const { marker } of listeners) marker.flushAll()
  await sleep(1500) // the last reads reach Redis
  const elapsedS = (performance.now() - began) / 1000
  const cpu = servers.reduce((sum, s) => sum + cpuMs(s.child.pid), 0) - cpu0
  const redisCpu = await redisCpuMs(redis.url) - redis0
  for (const { ws } of listeners) ws.terminate()
  for (const ws of senders) ws.terminate()
  await Promise.all(servers.map(({ child }) => stop(child, 5000)))
  if (redis.child) await stop(redis.child)
  latencies.sort((a, b) => a - b)
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]
  return {
    mode,
    delivered,
    expected,
    chatApiUsPerDelivery: (cpu * 1000 / delivered).toFixed(1),
    redisUsPerDelivery: (redisCpu * 1000 / delivered).toFixed(1),
    reads,
    readsPerDelivery: (reads / delivered).toFixed(2),
    elapsedS: elapsedS.toFixed(1),
    p50Ms: pct(0.5),
    p99Ms: pct(0.99)
  }
}

try {
  log(`${ROOMS} rooms x 4 (2 per instance), ${RATE} msg/s for ${SECONDS} s, deliveries = 3 x messages`)
  const rows = []
  for (const mode of values.modes.split(',')) {
    log(`mode ${mode}`)
    rows.push(await run(mode))
  }
  console.log('| mode | delivered | chat-api CPU µs / delivery | Redis CPU µs / delivery | `read` frames (per delivery) | p50 ms | p99 ms |')
  console.log('|---|---|---|---|---|---|---|')
  for (const r of rows) {
    console.log(`| ${r.mode} | ${r.delivered} / ${r.expected} | ${r.chatApiUsPerDelivery} | ${r.redisUsPerDelivery} | ${r.reads} (${r.readsPerDelivery}) | ${r.p50Ms} | ${r.p99Ms} |`)
  }
} finally {
  await stopAll()
}
