/**
 * Durable acknowledgements (HISTORY_MIN_REPLICAS): with a real master and replica, a message is
 * acknowledged only once the replica holds it, so every acknowledged message survives a SIGKILL of
 * the master and the promotion of its replica; while the replica cannot confirm, sends are
 * answered `unavailable` (and may be resent with their key).
 */
import { test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { connect, eventually, listen } from '../helper.js'
import { clusterApp, freePort, uniquePrefix } from '../redis-helper.js'
import { RedisClusterSet } from '../redis-topologies.js'

interface Teardown { teardown: (fn: () => unknown) => void }

async function redisServer (t: Teardown, args: string[] = []): Promise<{ port: number, child: ChildProcess }> {
  const port = await freePort()
  // A folder of its own: a replica's full sync writes dump.rdb there, which a later server would load.
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-acks-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGCONT')
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  })
  await new Promise<void>((resolve, reject) => {
    let log = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      log += chunk.toString()
      if (log.includes('Ready to accept connections')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${log}`)))
  })
  return { port, child }
}

function client (t: Teardown, port: number): Redis {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null })
  c.on('error', () => {})
  t.teardown(() => c.disconnect())
  return c
}

test('HISTORY_MIN_REPLICAS=1: every acknowledged message survives a SIGKILL of the master', async (t) => {
  const master = await redisServer(t)
  const replica = await redisServer(t, ['--replicaof', '127.0.0.1', String(master.port)])
  const replicaClient = client(t, replica.port)
  await eventually(async () => (await replicaClient.info('replication')).includes('master_link_status:up'), 10000)

  const prefix = uniquePrefix()
  const app = await clusterApp(t, `redis://127.0.0.1:${master.port}`, prefix, { HISTORY_MIN_REPLICAS: 1, HISTORY_REPLICA_TIMEOUT_MS: 300 })
  const sender = await connect(t, `${app.url}/ws/r`)
  const acked: string[] = []
  const send = async (data: string): Promise<void> => {
    const reply = await sender.request({ type: 'message', room: 'r', data, key: data })
    if (reply.type === 'ack') acked.push(data)
    else t.match(reply, { type: 'error', code: 'unavailable' }, `${data}: not acknowledged`)
  }
  for (let i = 1; i <= 5; i++) await send(`m${i}`)
  t.same(acked, ['m1', 'm2', 'm3', 'm4', 'm5'], 'acknowledged while the replica keeps up')

  // The replica is cut off from its master (here by leaving it, which also promotes it, as a
  // failover would): the master alone holds what comes now.
  await replicaClient.call('REPLICAOF', 'NO', 'ONE')
  for (let i = 6; i <= 8; i++) await send(`m${i}`)
  t.same(acked.length, 5, 'nothing acknowledged that only the master holds')

  const killed = once(master.child, 'exit')
  master.child.kill('SIGKILL')
  await killed

  const promoted = await clusterApp(t, `redis://127.0.0.1:${replica.port}`, prefix)
  const reader = await connect(t, `${promoted.url}/ws`)
  const history = await reader.request({ type: 'history', room: 'r' })
  const kept = new Set(history.messages.map((m: any) => m.data))
  t.same(acked.filter(data => !kept.has(data)), [], 'every acknowledged message is in the promoted replica')
})

test('HISTORY_MIN_REPLICAS=1 on a Redis Cluster: each room\'s WAIT goes to the master of its slot', async (t) => {
  const cluster = await RedisClusterSet.start(t)
  const app = await listen(t, { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_CHANNEL_PREFIX: uniquePrefix(), WS_RATE_LIMIT_PER_SEC: 0, HISTORY_MIN_REPLICAS: 1 })
  // Rooms on every shard (three masters, each with one replica): each is acknowledged.
  const sender = await connect(t, `${app.url}/ws`)
  for (let i = 0; i < 12; i++) {
    await sender.request({ type: 'join', room: `room-${i}` })
    t.match(await sender.request({ type: 'message', room: `room-${i}`, data: i }), { type: 'ack', offset: 1 }, `room-${i} acknowledged`)
  }
  const refused = await listen(t, { REDIS_CLUSTER_NODES: cluster.nodes, REDIS_CHANNEL_PREFIX: uniquePrefix(), WS_RATE_LIMIT_PER_SEC: 0, HISTORY_MIN_REPLICAS: 2, HISTORY_REPLICA_TIMEOUT_MS: 100 })
  const other = await connect(t, `${refused.url}/ws/r`)
  t.match(await other.request({ type: 'message', room: 'r', data: 'x' }), { type: 'error', code: 'unavailable' }, 'two replicas asked, one exists')
})
