/**
 * The Sentinel variant's Redis: a master and a replica (both ChaosRedis) watched by 3 sentinels.
 * Its own fault loses acknowledged writes on purpose: the replica is frozen while writes go on,
 * then the master is killed and the stale replica promoted; the old master comes back empty as
 * the new one's replica. The roles swap at every such failover.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { untilLogged } from '../helpers/spawn-redis.js'
import { freePort } from '../redis-helper.js'
import { adminCommand, ChaosRedis } from './redis-server.js'

export const SENTINEL_NAME = 'chaos'
/** A promotion takes down-after (1 s) plus the election: this bound is for a loaded machine. */
const PROMOTED_WITHIN_MS = 30_000

async function startSentinel (dir: string, masterPort: number): Promise<[number, ChildProcess]> {
  const port = await freePort()
  const conf = join(dir, `sentinel-${port}.conf`)
  writeFileSync(conf, [
    `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${masterPort} 2`,
    `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
    `sentinel failover-timeout ${SENTINEL_NAME} 5000`, ''
  ].join('\n'))
  const child = spawn('redis-sentinel', [conf], { stdio: ['ignore', 'pipe', 'pipe'] })
  await untilLogged(child, '+monitor master', 'redis-sentinel')
  return [port, child]
}

export class ChaosSentinel {
  private readonly dir = mkdtempSync(join(tmpdir(), 'chat-api-chaos-sentinel-'))
  private readonly sentinels: Array<[number, ChildProcess]> = []
  private constructor (private master: ChaosRedis, private replica: ChaosRedis) {}

  static async start (): Promise<ChaosSentinel> {
    const master = await ChaosRedis.start()
    const replica = await ChaosRedis.start(master.port)
    const set = new ChaosSentinel(master, replica)
    for (let i = 0; i < 3; i++) set.sentinels.push(await startSentinel(set.dir, master.port))
    // A failover needs the replica in sync and known to the sentinels.
    const deadline = Date.now() + PROMOTED_WITHIN_MS
    while (!String(await replica.command('INFO', 'replication').catch(() => '')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error('the replica never synced')
      await sleep(100)
    }
    // ... and every sentinel knowing the replica and the two others (found through the master).
    for (const [port] of set.sentinels) {
      for (;;) {
        const replicas = await adminCommand(port, 'SENTINEL', 'REPLICAS', SENTINEL_NAME).catch(() => []) as unknown[]
        const others = await adminCommand(port, 'SENTINEL', 'SENTINELS', SENTINEL_NAME).catch(() => []) as unknown[]
        if (replicas.length === 1 && others.length === 2) break
        if (Date.now() > deadline) throw new Error('the sentinels never found each other and the replica')
        await sleep(100)
      }
    }
    return set
  }

  /** `host:port,...` as REDIS_SENTINELS. */
  get sentinelList (): string {
    return this.sentinels.map(([port]) => `127.0.0.1:${port}`).join(',')
  }

  get url (): string {
    return this.master.url
  }

  get pids (): Array<[string, number | undefined]> {
    return [['redis-master', this.master.pid], ['redis-replica', this.replica.pid]]
  }

  /** An admin command on the current master. */
  async command (...args: Array<string | number>): Promise<unknown> {
    return await this.master.command(...args)
  }

  /** The master's port as the first sentinel that answers names it. */
  private async sentinelsMaster (): Promise<number | null> {
    for (const [port] of this.sentinels) {
      try {
        const [, master] = await adminCommand(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_NAME) as [string, string]
        return Number(master)
      } catch {}
    }
    return null
  }

  /** Freezes the replica for `staleMs` of writes, kills the master, waits for the promotion. */
  async failoverLosingWrites (staleMs: number): Promise<void> {
    const { master, replica } = this
    replica.signal('SIGSTOP')
    await sleep(staleMs)
    await master.kill('SIGKILL')
    replica.signal('SIGCONT')
    const deadline = Date.now() + PROMOTED_WITHIN_MS
    while (await this.sentinelsMaster() !== replica.port) {
      if (Date.now() > deadline) throw new Error(`no promotion within ${PROMOTED_WITHIN_MS} ms`)
      await sleep(200)
    }
    // Only now: started earlier, the empty old master could be taken for the source of truth.
    master.replicaOf = replica.port
    await master.startEmpty()
    replica.replicaOf = null
    this.master = replica
    this.replica = master
  }

  async stop (): Promise<void> {
    await Promise.all(this.sentinels.map(async ([, child]) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }))
    await this.master.stop()
    await this.replica.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
