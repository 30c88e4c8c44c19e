#!/usr/bin/env node
/**
 * Heap (and RSS) per idle socket of one target, the steady figure behind the idle scenario's RSS:
 * `--instances` instances started as the bench starts them (bench/lib/servers.mjs, heartbeat at its
 * 30 s default), `--sockets` idle sockets opened by the load generator exactly as the idle
 * scenario opens them (2 rooms each, rooms of 20 spread over the instances), then a full GC in
 * each instance: heap used and settled RSS with the sockets less without, per socket, summed over
 * the instances. Heap counts objects, so unlike RSS and timings it does not move with the load.
 * `--script` runs another build of chat-api (e.g. main's dist/server.js, built elsewhere).
 * `--snapshots DIR` writes the first instance's heap snapshot without and with the sockets there
 * (before.heapsnapshot, after.heapsnapshot), for bench/heap-diff.mjs to say what the sockets added.
 *
 *   npm run build && node bench/idle-heap.mjs --target chat-api --sockets 6000 [--instances 1] [--script path]
 *
 * 6 000 sockets on one instance, or 10 000 over 5 (each instance then holds a share of every room,
 * as in the 100 000-socket run), were the sizes of docs/performance.md's idle profile.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { findOrStartRedis } from './lib/redis.mjs'
import { startLoadgen } from './lib/loadgen-client.mjs'
import { stop, stopAll } from './lib/proc.mjs'
import { heapAfterGc, heapSnapshot, settledRssKb, startInstances, stopInstances } from './lib/servers.mjs'
import { TARGETS } from './lib/targets.mjs'

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'chat-api' },
    sockets: { type: 'string', default: '6000' },
    instances: { type: 'string', default: '1' },
    script: { type: 'string' },
    snapshots: { type: 'string' }
  }
})
const sockets = Number(values.sockets)
const count = Number(values.instances)
if (!TARGETS[values.target]) throw new Error(`unknown target "${values.target}" (${Object.keys(TARGETS).join(', ')})`)
if (values.script !== undefined) TARGETS[values.target] = { ...TARGETS[values.target], script: values.script }
const sum = (xs) => xs.reduce((a, b) => a + b, 0)

const redis = await findOrStartRedis()
const lg = startLoadgen()
let instances = []
try {
  await lg.ready
  instances = await startInstances(values.target, count, { redisUrl: redis.url, prefix: `idle-heap-${Date.now().toString(36)}`, env: { WS_HEARTBEAT_MS: '30000' } })
  const heapBefore = sum(await Promise.all(instances.map(heapAfterGc)))
  const rssBefore = sum(await Promise.all(instances.map(settledRssKb)))
  if (values.snapshots !== undefined) await heapSnapshot(instances[0], join(values.snapshots, 'before.heapsnapshot'))
  await lg.ask('idle-open', { protocol: TARGETS[values.target].protocol, ports: instances.map(i => i.port), total: sockets, first: 0, count: sockets, concurrency: 200, localAddress: '127.0.0.9' })
  await sleep(2000)
  const heapAfter = sum(await Promise.all(instances.map(heapAfterGc)))
  const rssAfter = sum(await Promise.all(instances.map(settledRssKb)))
  if (values.snapshots !== undefined) await heapSnapshot(instances[0], join(values.snapshots, 'after.heapsnapshot'))
  console.log(JSON.stringify({
    target: values.target,
    script: values.script ?? TARGETS[values.target].script,
    sockets,
    instances: count,
    heapBytesPerSocket: Math.round((heapAfter - heapBefore) / sockets),
    rssKiBPerSocket: Number(((rssAfter - rssBefore) / sockets).toFixed(2))
  }))
  await lg.ask('idle-close')
} finally {
  await stopInstances(instances)
  await stop(lg.child)
  await stopAll()
}
