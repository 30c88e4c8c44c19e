#!/usr/bin/env node
/**
 * What durable acknowledgements cost: the same sends to one room, acknowledged with
 * HISTORY_MIN_REPLICAS=0 and =1, against a Redis master with one replica (both started here on
 * free ports, killed at the end). Sequential sends measure each ack's latency; then `--window`
 * sends in flight at once show what one WAIT covering many appends keeps of the throughput.
 *
 *   npm run build && node bench/durable-acks.mjs [--messages 2000] [--window 50]
 */
import { parseArgs } from 'node:util'
import { buildApp } from '../dist/app.js'
import { ackSocket } from './lib/ack-socket.mjs'
import { startRedisServer } from './lib/redis.mjs'
import { percentile } from './lib/stats.mjs'

const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' }, window: { type: 'string', default: '50' } } })
const MESSAGES = Number(values.messages)
const WINDOW = Number(values.window)

async function run (masterPort, minReplicas) {
  const app = await buildApp({ config: { REDIS_URL: `redis://127.0.0.1:${masterPort}`, REDIS_CHANNEL_PREFIX: `durable-${minReplicas}`, HISTORY_MIN_REPLICAS: minReplicas, WS_RATE_LIMIT_PER_SEC: 0, LOG_LEVEL: 'silent', PRESENCE_ENABLED: false } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { ws, send } = await ackSocket(app.server.address().port, 'r')
  const latencies = []
  let refused = 0
  for (let i = 0; i < MESSAGES; i++) {
    const started = performance.now()
    if ((await send()).type !== 'ack') refused++
    latencies.push(performance.now() - started)
  }
  latencies.sort((a, b) => a - b)
  const started = performance.now()
  let sent = 0
  await Promise.all(Array.from({ length: WINDOW }, async () => {
    while (sent < MESSAGES) {
      sent++
      if ((await send()).type !== 'ack') refused++
    }
  }))
  const rate = MESSAGES / ((performance.now() - started) / 1000)
  ws.close()
  await app.close()
  return { minReplicas, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), rate, refused }
}

const master = await startRedisServer()
const replica = await startRedisServer(['--replicaof', '127.0.0.1', String(master.port)])
try {
  console.log(`${MESSAGES} sends, one socket; sequential ack latency, then ${WINDOW} in flight`)
  console.log('| HISTORY_MIN_REPLICAS | ack p50 (ms) | ack p99 (ms) | sends/s with ' + WINDOW + ' in flight | refused |')
  console.log('|---|---|---|---|---|')
  for (const n of [0, 1, 0, 1]) {
    const r = await run(master.port, n)
    console.log(`| ${r.minReplicas} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${Math.round(r.rate)} | ${r.refused} |`)
  }
} finally {
  master.child.kill('SIGKILL')
  replica.child.kill('SIGKILL')
}
