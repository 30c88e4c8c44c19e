/**
 * The throw-away redis-server of a chaos run (never the shared one): its own port, kept across
 * restarts so the proxies need no reconfiguration, and its own directory, so a snapshot it loads
 * is one this run wrote. It can come back with every write, from an older snapshot, or empty.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { freePort } from '../redis-helper.js'
import { spawnRedisServer } from '../helpers/spawn-redis.js'

/** Bound of one admin command: a paused or restarting Redis must not hold the run. */
const ADMIN_TIMEOUT_MS = 5000

/** One command on a fresh connection to `port`, with a deadline; the connection is dropped after. */
export async function adminCommand (port: number, ...args: Array<string | number>): Promise<unknown> {
  const client = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null, commandTimeout: ADMIN_TIMEOUT_MS, lazyConnect: true })
  client.on('error', () => {})
  try {
    await client.connect()
    return await client.call(String(args[0]), ...args.slice(1).map(String))
  } finally {
    client.disconnect()
  }
}

export class ChaosRedis {
  private child: ChildProcess | null = null
  private readonly dir = mkdtempSync(join(tmpdir(), 'chat-api-chaos-redis-'))
  /** The master's port when this server is started as a replica (the Sentinel set-up). */
  replicaOf: number | null = null
  private constructor (readonly port: number) {}

  static async start (replicaOf: number | null = null): Promise<ChaosRedis> {
    const redis = new ChaosRedis(await freePort())
    redis.replicaOf = replicaOf
    await redis.spawn()
    return redis
  }

  get url (): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get pid (): number | undefined {
    return this.child?.pid
  }

  /** For the memory sampler. */
  get pids (): Array<[string, number | undefined]> {
    return [['redis', this.pid]]
  }

  private async spawn (): Promise<void> {
    // No automatic snapshots: the run decides when one is taken (SAVE, SHUTDOWN SAVE).
    this.child = await spawnRedisServer(this.port, this.dir, [
      '--dbfilename', 'dump.rdb',
      ...(this.replicaOf === null ? [] : ['--replicaof', '127.0.0.1', String(this.replicaOf)])
    ])
  }

  /** A one-off admin command on a fresh connection (a killed or paused connection must not linger). */
  async command (...args: Array<string | number>): Promise<unknown> {
    return await adminCommand(this.port, ...args)
  }

  /** SIGSTOP / SIGCONT: a frozen server keeps its sockets but answers nothing. */
  signal (signal: NodeJS.Signals): void {
    this.child?.kill(signal)
  }

  /** Starts it again after a kill, empty (as a replica of `replicaOf`, if set). */
  async startEmpty (): Promise<void> {
    rmSync(join(this.dir, 'dump.rdb'), { force: true })
    await this.spawn()
  }

  async kill (signal: NodeJS.Signals): Promise<void> {
    const child = this.child
    this.child = null
    if (child === null || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGCONT')
    child.kill(signal)
    await exited
  }

  /**
   * Stops Redis and starts it again after `downMs`. `save`: every write kept (SHUTDOWN SAVE).
   * `snapshot`: a snapshot `staleMs` old, then a SIGKILL, so what came after it is lost.
   * `empty`: a SIGKILL and no snapshot.
   */
  async restart (mode: 'save' | 'snapshot' | 'empty', downMs: number, staleMs: number): Promise<void> {
    rmSync(join(this.dir, 'dump.rdb'), { force: true })
    if (mode === 'save') {
      const child = this.child
      const exited = child === null ? Promise.resolve() : once(child, 'exit')
      await this.command('SHUTDOWN', 'SAVE').catch(() => {}) // the connection drops as it exits
      await Promise.race([exited, sleep(ADMIN_TIMEOUT_MS)])
    } else if (mode === 'snapshot') {
      await this.command('SAVE')
      await sleep(staleMs)
    }
    await this.kill('SIGKILL') // nothing to do when SHUTDOWN SAVE has ended it
    await sleep(downMs)
    await this.spawn()
  }

  async stop (): Promise<void> {
    await this.kill('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }
}
