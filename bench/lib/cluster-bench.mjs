/**
 * `npm run bench -- --redis cluster`: where the Redis work goes on a Redis Cluster. The same load
 * (two chat-api instances, rooms r0..r29, a fixed message rate) runs three times:
 *
 *   one Redis            REDIS_URL, a redis-server of the run's own
 *   cluster, sharded     REDIS_CLUSTER_NODES on a private 3-master cluster (what chat-api does)
 *   cluster, classic     the same cluster with room channels on classic pub/sub (bench only:
 *                        CHAT_API_BENCH_CLASSIC_PUBSUB=1), for comparison
 *
 * and reads each Redis's CPU (INFO cpu) around each step: Redis CPU per message, per shard.
 * Sharded, each shard pays for the rooms it owns only; classic, every shard pays for every
 * message, since the cluster bus copies each PUBLISH to every node.
 */
import { spawnSync } from 'node:child_process'
import calculateSlot from 'cluster-key-slot'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, start, stop } from './proc.mjs'
import { redisCpuMs } from './redis.mjs'
import { startInstances, stopInstances } from './servers.mjs'
import { median } from './stats.mjs'

// r0..r29 hash to 9, 13 and 8 rooms on the three shards of an even slot split (12 rooms: 3, 6, 3).
const ROOMS = 30
const MEMBERS = 4
const GRACE_MS = 1000

/** A private cluster of 3 masters (no replicas: only the masters' work is measured). */
async function startCluster (log) {
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-bench-cluster-'))
  const ports = [await freePort(), await freePort(), await freePort()]
  const children = ports.map(port => start(`redis-${port}`, 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '5000'
  ]))
  await sleep(500)
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-yes'], { encoding: 'utf8' })
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`)
  for (let i = 0; ; i++) {
    const states = ports.map(port => spawnSync('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'], { encoding: 'utf8' }).stdout)
    if (states.every(s => s.includes('cluster_state:ok'))) break
    if (i > 100) throw new Error('the bench cluster did not reach cluster_state:ok')
    await sleep(100)
  }
  log(`redis cluster of 3 masters on ${ports.join(', ')}`)
  return {
    ports,
    nodes: ports.map(p => `127.0.0.1:${p}`).join(','),
    /** How many of the bench's rooms (r0, r1, ...: their hash tags) each master owns. */
    roomsPerShard: ports.map(port => {
      const nodes = spawnSync('redis-cli', ['-p', String(port), 'CLUSTER', 'NODES'], { encoding: 'utf8' }).stdout
      const ranges = nodes.split('\n').find(line => line.includes('myself')).split(' ').slice(8).map(r => r.split('-').map(Number))
      return Array.from({ length: ROOMS }, (_, k) => calculateSlot(`r${k}`))
        .filter(slot => ranges.some(([from, to = from]) => from <= slot && slot <= to)).length
    }),
    async stop () {
      await Promise.all(children.map(child => stop(child)))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Runs `rounds` steps at `rate` against two instances started with `redisEnv`; CPU per message per Redis. */
async function measure (lg, log, { label, redisEnv, redisUrls, prefix, rate, stepMs, rounds }) {
  const instances = await startInstances('chat-api', 2, { redisEnv, prefix })
  const target = `cluster-bench-${prefix}`
  try {
    await lg.ask('setup', { target, protocol: 'chat', ports: instances.map(i => i.port), rooms: ROOMS, members: MEMBERS })
    await lg.ask('step', { target, rate: 200, durationMs: 1000, graceMs: GRACE_MS, stepId: 0 }) // warm-up
    const steps = []
    for (let round = 0; round < rounds; round++) {
      const before = await Promise.all(redisUrls.map(redisCpuMs))
      const res = await lg.ask('step', { target, rate, durationMs: stepMs, graceMs: GRACE_MS, stepId: round + 1 })
      const after = await Promise.all(redisUrls.map(redisCpuMs))
      const messages = res.expected / MEMBERS
      const usPerMessage = after.map((ms, i) => (ms - before[i]) * 1000 / messages)
      log(`${label}: ${rate} msg/s, ${(100 * res.delivered / res.expected).toFixed(1)}% delivered, p99 ${res.latencyMs.p99} ms, Redis µs/message ${usPerMessage.map(us => us.toFixed(1)).join(' / ')}`)
      steps.push({ usPerMessage, delivered: res.delivered / res.expected, p99: res.latencyMs.p99 })
    }
    await lg.ask('teardown', { target })
    return {
      label,
      usPerMessage: redisUrls.map((_, i) => median(steps.map(s => s.usPerMessage[i]))),
      delivered: median(steps.map(s => s.delivered)),
      p99: median(steps.map(s => s.p99))
    }
  } finally {
    await stopInstances(instances)
  }
}

/**
 * The three runs, one after the other; `single` is the run's one Redis ({ url }). Returns the
 * results and a markdown table.
 */
export async function clusterBench ({ lg, log, single, runId, rate, stepMs, rounds }) {
  const results = []
  const common = { rate, stepMs, rounds }
  results.push({
    ...await measure(lg, log, { ...common, label: 'one Redis', redisEnv: { REDIS_URL: single.url }, redisUrls: [single.url], prefix: `${runId}-one` }),
    roomsPerShard: [ROOMS]
  })
  const cluster = await startCluster(log)
  try {
    const urls = cluster.ports.map(port => `redis://127.0.0.1:${port}`)
    // The shell's REDIS_URL would make two ways to reach Redis: chat-api refuses that.
    const clusterEnv = { REDIS_URL: undefined, REDIS_CLUSTER_NODES: cluster.nodes }
    results.push({
      ...await measure(lg, log, { ...common, label: 'cluster, sharded pub/sub', redisEnv: clusterEnv, redisUrls: urls, prefix: `${runId}-sharded` }),
      roomsPerShard: cluster.roomsPerShard
    })
    results.push({
      ...await measure(lg, log, { ...common, label: 'cluster, classic pub/sub', redisEnv: { ...clusterEnv, CHAT_API_BENCH_CLASSIC_PUBSUB: '1' }, redisUrls: urls, prefix: `${runId}-classic` }),
      roomsPerShard: cluster.roomsPerShard
    })
  } finally {
    await cluster.stop()
  }
  const one = results[0].usPerMessage[0]
  const rows = results.map(r => {
    const shards = r.usPerMessage.map((us, i) => `${us.toFixed(1)} µs (${(us / one).toFixed(2)}x, ${r.roomsPerShard[i]} rooms)`).join(' / ')
    const total = r.usPerMessage.reduce((a, b) => a + b, 0)
    return `| ${r.label} | ${shards} | ${total.toFixed(1)} µs | ${(100 * r.delivered).toFixed(1)}% | ${r.p99} ms |`
  })
  const markdown = [
    `Redis CPU per message (INFO cpu), ${rate} msg/s over ${ROOMS} rooms of ${MEMBERS} members on 2 chat-api instances, median of ${rounds} step(s) of ${stepMs} ms; "x" is against one Redis.`,
    '',
    '| Redis | per Redis / shard (x one Redis, rooms owned) | all Redis together | delivered | p99 |',
    '|---|---|---|---|---|',
    ...rows
  ].join('\n')
  return { results, markdown }
}
