/**
 * Redis for the cluster tests: the shared Redis from TEST_REDIS_URL (set by `npm test`), a channel
 * prefix per test so parallel tests never hear each other, an admin client to look at
 * subscriptions and connections, and a throw-away redis-server a test may stop and start again.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, connect as tcpConnect, type Socket } from 'node:net'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import type { ConfigInput } from '../src/app.js'
import { listen, PREFIX } from './helper.js'
import { spawnRedisServer } from './helpers/spawn-redis.js'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

interface Teardown { teardown: (fn: () => unknown) => void }

export function uniquePrefix (): string {
  return `test-${randomUUID().slice(0, 8)}`
}

/** A plain client for PUBSUB / CLIENT LIST, closed at teardown. */
export function adminClient (t: Teardown, url = TEST_REDIS_URL): Redis {
  const client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
  client.on('error', () => {}) // a test that stops its Redis sees its admin client fail too
  t.teardown(() => { client.disconnect() })
  return client
}

/** One cluster member: an app listening on port 0 with fan-out through `redisUrl`. */
export function clusterApp (t: Teardown, redisUrl: string, prefix: string, config: ConfigInput = {}): ReturnType<typeof listen> {
  // No rate limits: some tests send bursts to check ordering, or poll stats while they wait.
  return listen(t, { REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: prefix, WS_RATE_LIMIT_PER_SEC: 0, WS_JOIN_RATE_PER_SEC: 0, HTTP_RATE_LIMIT_PER_MIN: 0, ...config })
}

/** The app's `/ws/stats` (instanceId, redis state...). */
export async function statsOf (app: FastifyInstance): Promise<{ instanceId: string, redis: string, [k: string]: unknown }> {
  return (await app.inject(`${PREFIX}/ws/stats`)).json()
}

/** Subscriber count of one channel (PUBSUB NUMSUB). */
export async function numsub (admin: Redis, channel: string): Promise<number> {
  const reply = await admin.call('PUBSUB', 'NUMSUB', channel) as [string, number]
  return Number(reply[1])
}

/** The channels anyone subscribes under a prefix, sorted. */
export async function channelsUnder (admin: Redis, prefix: string): Promise<string[]> {
  const channels = await admin.call('PUBSUB', 'CHANNELS', `${prefix}:*`) as string[]
  return channels.sort()
}

export interface ClientInfo { id: string, name: string, sub: number }

/** The connections whose name contains `fragment` (our names carry the hub's instanceId). */
export async function clientsNamed (admin: Redis, fragment: string): Promise<ClientInfo[]> {
  const list = await admin.call('CLIENT', 'LIST') as string
  return list.split('\n').filter(Boolean).map(line => {
    const fields = new Map(line.split(' ').map(kv => {
      const at = kv.indexOf('=')
      return [kv.slice(0, at), kv.slice(at + 1)] as const
    }))
    return { id: fields.get('id') ?? '', name: fields.get('name') ?? '', sub: Number(fields.get('sub') ?? 0) }
  }).filter(c => c.name.includes(fragment))
}

export async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

/** A redis-server of this test only, on a port that stays the same across stop() and start(). */
export class ThrowAwayRedis {
  private child: ChildProcess | null = null
  /** A folder of its own: a replica's full sync writes dump.rdb there, which any later server would load. */
  private readonly dir = mkdtempSync(join(tmpdir(), 'chat-api-redis-'))
  private constructor (readonly port: number) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid (): number | undefined {
    return this.child?.pid
  }

  static async start (t: Teardown): Promise<ThrowAwayRedis> {
    const redis = new ThrowAwayRedis(await freePort())
    t.teardown(async () => {
      await redis.stop()
      rmSync(redis.dir, { recursive: true, force: true })
    })
    await redis.start()
    return redis
  }

  async start (): Promise<void> {
    this.child = await spawnRedisServer(this.port, this.dir)
  }

  async stop (): Promise<void> {
    const child = this.child
    this.child = null
    if (child === null || child.exitCode !== null) return
    child.kill('SIGCONT') // in case a test froze it
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  }
}

/**
 * A TCP proxy to a Redis that holds every client-to-Redis chunk for `delayMs` (order kept): the
 * instance behind it sees a slow link, so its SUBSCRIBE reaches Redis well after it was sent.
 */
export async function slowProxy (t: Teardown, redisUrl: string, delayMs: number): Promise<string> {
  const upstream = new URL(redisUrl)
  const sockets = new Set<Socket>()
  const server = createServer((client) => {
    const redis = tcpConnect(Number(upstream.port || 6379), upstream.hostname)
    for (const s of [client, redis]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        redis.destroy()
      })
    }
    client.on('data', (chunk) => { setTimeout(() => redis.write(chunk), delayMs) })
    redis.pipe(client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  return `redis://127.0.0.1:${(server.address() as { port: number }).port}`
}
