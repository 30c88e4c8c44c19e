/**
 * One redis-server of a test, in a folder of its own that outlives a restart: `kill` (SIGKILL, no
 * save) then `start` brings it back on the same port from whatever snapshot the test SAVEd there,
 * as a crash and a restart from an older snapshot do. `replicaOf` starts it as a replica.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { eventually } from '../helper.js'
import { freePort } from '../redis-helper.js'
import { spawnRedisServer } from './spawn-redis.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export class RedisProcess {
  private child: ChildProcess | null = null
  private readonly dir = mkdtempSync(join(tmpdir(), 'chat-api-stamp-'))

  private constructor (readonly port: number, private readonly args: string[]) {}

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start (t: Teardown, options: { replicaOf?: RedisProcess } = {}): Promise<RedisProcess> {
    const args = options.replicaOf === undefined ? [] : ['--replicaof', '127.0.0.1', String(options.replicaOf.port)]
    const redis = new RedisProcess(await freePort(), args)
    t.teardown(async () => {
      await redis.kill()
      rmSync(redis.dir, { recursive: true, force: true })
    })
    await redis.start()
    return redis
  }

  async start (): Promise<void> {
    this.child = await spawnRedisServer(this.port, this.dir, this.args)
  }

  /** SIGKILL: nothing is saved on the way out. */
  async kill (): Promise<void> {
    const child = this.child
    this.child = null
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }

  /** A plain client, disconnected at teardown. */
  client (t: Teardown): Redis {
    const client = new Redis({ port: this.port, host: '127.0.0.1', maxRetriesPerRequest: 1 })
    client.on('error', () => {})
    t.teardown(() => client.disconnect())
    return client
  }

  /** Resolves once this replica's link to its master is up. */
  async synced (t: Teardown): Promise<void> {
    const client = this.client(t)
    await eventually(async () => (await client.info('replication')).includes('master_link_status:up'), 10000)
  }
}
