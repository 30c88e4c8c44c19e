/**
 * Redis topologies of one test file, started as real processes and killed at teardown: a Redis
 * Cluster of 3 masters + 3 replicas, and a master + replica watched by 3 sentinels. Kept light for
 * small machines: no persistence, short failure timeouts. The processes: helpers/redis-processes.ts;
 * the cluster bus proxy: helpers/bus-proxy.ts.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import type { Redis } from 'ioredis'
import { eventually } from './helper.js'
import { freePort } from './redis-helper.js'
import { BusProxy } from './helpers/bus-proxy.js'
import { authArgs, LIGHT, Processes, spawnOnFreePort, type Teardown, type TopologyAuth } from './helpers/redis-processes.js'

export type { TopologyAuth }

export interface ClusterOptions extends TopologyAuth {
  /** Each node's cluster bus behind a BusProxy, for `cutBus`. */
  busProxies?: boolean
}

/** What `CLUSTER SLOTS` says: each range and the ports of its master and replicas. */
export interface SlotRange { from: number, to: number, master: number, replicas: number[] }

export class RedisClusterSet {
  private constructor (private readonly procs: Processes, readonly ports: number[], private readonly buses: BusProxy[]) {}

  /** `host:port,...` of every node, as REDIS_CLUSTER_NODES. */
  get nodes (): string {
    return this.ports.map(port => `127.0.0.1:${port}`).join(',')
  }

  /** 3 masters with one replica each, slots spread evenly, every node agreeing the cluster is ok. */
  static async start (t: Teardown, options: ClusterOptions = {}): Promise<RedisClusterSet> {
    const procs = new Processes(t, options)
    const ports: number[] = []
    const buses: BusProxy[] = []
    t.teardown(() => { for (const bus of buses) bus.close() })
    for (let i = 0; i < 6; i++) {
      const [port, child] = await spawnOnFreePort('redis-server', async (port) => {
        // The bus port on a free port of its own: port + 10000 may be taken, or past 65535.
        const bus = await freePort()
        const announce: string[] = []
        if (options.busProxies === true) {
          const proxy = await BusProxy.start(bus)
          buses.push(proxy)
          announce.push('--cluster-announce-bus-port', String(proxy.port))
        }
        return [
          '--port', String(port), ...LIGHT, '--dir', procs.dir,
          '--cluster-enabled', 'yes', '--cluster-port', String(bus), ...announce, '--cluster-config-file', `nodes-${port}.conf`,
          // Failures are noticed within 2 s, and any replica may take over however far behind.
          '--cluster-node-timeout', '2000', '--cluster-replica-validity-factor', '0',
          ...authArgs(options.password)
        ]
      }, /Ready to accept connections/)
      procs.byPort.set(port, child)
      ports.push(port)
    }
    // Not spawnSync: the bus proxies live on this event loop, and the nodes meet through them.
    const create = spawn('redis-cli', [...(options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password]), '--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes'])
    let output = ''
    create.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    create.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const [status] = await once(create, 'exit') as [number | null]
    if (status !== 0) throw new Error(`redis-cli --cluster create failed: ${output}`)
    const set = new RedisClusterSet(procs, ports, buses)
    await eventually(async () => {
      const ranges = await set.slots()
      if (ranges.length !== 3 || ranges.some(r => r.replicas.length !== 1)) return false
      const states = await Promise.all(ports.map(port => procs.client(port).call('CLUSTER', 'INFO') as Promise<string>))
      return states.every(info => info.includes('cluster_state:ok'))
    }, 20000)
    return set
  }

  /**
   * Resets every cluster bus link and refuses new ones for `ms` (keep it well under the node
   * timeout, 2 s, or the nodes start failing each other over). Needs `busProxies`.
   */
  cutBus (ms: number): void {
    if (this.buses.length === 0) throw new Error('cutBus needs a cluster started with busProxies')
    for (const bus of this.buses) bus.cut(ms)
  }

  /** The slot map as a live node sees it. */
  async slots (): Promise<SlotRange[]> {
    for (const port of this.live()) {
      try {
        const reply = await this.procs.client(port).call('CLUSTER', 'SLOTS') as Array<[number, number, ...Array<[string, number]>]>
        return reply.map(([from, to, master, ...replicas]) => ({ from, to, master: master[1], replicas: replicas.map(r => r[1]) }))
          .sort((x, y) => x.from - y.from)
      } catch {}
    }
    throw new Error('no live cluster node answers')
  }

  async masterOf (slot: number): Promise<SlotRange> {
    const range = (await this.slots()).find(r => r.from <= slot && slot <= r.to)
    if (range === undefined) throw new Error(`slot ${slot} has no master`)
    return range
  }

  /** A client to one node (for PUBSUB SHARDCHANNELS, CLUSTER FAILOVER...). */
  client (port: number): Redis {
    return this.procs.client(port)
  }

  kill (port: number): void {
    this.procs.kill(port)
  }

  private live (): number[] {
    return this.ports.filter(port => {
      const child = this.procs.byPort.get(port)
      return child !== undefined && child.exitCode === null && child.signalCode === null
    })
  }
}

/** A master, its replica, and 3 sentinels (quorum 2) that watch it as `name`. */
export class SentinelSet {
  private constructor (private readonly procs: Processes, readonly master: number, readonly replica: number, readonly sentinelPorts: number[], readonly name: string) {}

  /** `host:port,...` of the sentinels, as REDIS_SENTINELS. */
  get sentinels (): string {
    return this.sentinelPorts.map(port => `127.0.0.1:${port}`).join(',')
  }

  static async start (t: Teardown, name = 'mymaster', auth: TopologyAuth = {}): Promise<SentinelSet> {
    const procs = new Processes(t, auth)
    const [master, masterProcess] = await spawnOnFreePort('redis-server', (port) => ['--port', String(port), ...LIGHT, '--dir', procs.dir, ...authArgs(auth.password)], /Ready to accept connections/)
    procs.byPort.set(master, masterProcess)
    const [replica, replicaProcess] = await spawnOnFreePort('redis-server', (port) => ['--port', String(port), ...LIGHT, '--dir', procs.dir, '--replicaof', '127.0.0.1', String(master), ...authArgs(auth.password)], /Ready to accept connections/)
    procs.byPort.set(replica, replicaProcess)
    const sentinelPorts: number[] = []
    for (let i = 0; i < 3; i++) {
      const [port, sentinel] = await spawnOnFreePort('redis-sentinel', (port) => {
        // A sentinel rewrites its configuration file: each gets its own.
        const conf = join(procs.dir, `sentinel-${port}.conf`)
        writeFileSync(conf, [
          `port ${port}`, 'bind 127.0.0.1', `dir ${procs.dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${master} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          ...(auth.password === undefined ? [] : [`sentinel auth-pass ${name} ${auth.password}`]),
          // A sentinel with a password: the others need it to talk to it.
          ...(auth.sentinelPassword === undefined ? [] : [`requirepass ${auth.sentinelPassword}`, `sentinel sentinel-pass ${auth.sentinelPassword}`]), ''
        ].join('\n'))
        return [conf]
      }, /\+monitor master/)
      procs.byPort.set(port, sentinel)
      sentinelPorts.push(port)
    }
    const set = new SentinelSet(procs, master, replica, sentinelPorts, name)
    // A failover needs the replica in sync and every sentinel knowing the replica and the others.
    await eventually(async () => {
      const info = await procs.client(replica).info('replication')
      if (!info.includes('master_link_status:up')) return false
      for (const port of sentinelPorts) {
        const sentinel = procs.client(port, true)
        const replicas = await sentinel.call('SENTINEL', 'REPLICAS', name) as unknown[]
        const others = await sentinel.call('SENTINEL', 'SENTINELS', name) as unknown[]
        if (replicas.length !== 1 || others.length !== 2) return false
      }
      return true
    }, 20000)
    return set
  }

  /** The master's port as the first sentinel names it. */
  async currentMaster (): Promise<number> {
    const [, port] = await this.procs.client(this.sentinelPorts[0], true).call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name) as [string, string]
    return Number(port)
  }

  client (port: number): Redis {
    return this.procs.client(port)
  }

  kill (port: number): void {
    this.procs.kill(port)
  }
}
