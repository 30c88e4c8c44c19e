/**
 * Redis processes for the topology tests (test/redis-topologies.ts): each spawned on a free port,
 * waited for until its log says it serves, and killed at teardown (or at once, should the test
 * process exit first). Kept light for small machines: no persistence.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from '../redis-helper.js'

export interface Teardown { teardown: (fn: () => unknown) => void }

/** No persistence, loopback only. */
export const LIGHT = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']

/** Credentials of a topology: `password` on every data node (and between them), `sentinelPassword` on the sentinels. */
export interface TopologyAuth { password?: string, sentinelPassword?: string }
export const authArgs = (password?: string): string[] => password === undefined ? [] : ['--requirepass', password, '--masterauth', password]

/** Spawns a redis-server (or redis-sentinel) and waits for the log line that says it serves. */
async function spawnRedis (binary: string, args: string[], readyLine: RegExp): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    let log = ''
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      if (readyLine.test(log)) {
        child.stdout?.off('data', onData)
        child.stdout?.resume()
        child.off('exit', onExit)
        resolve()
      }
    }
    const onExit = (code: number | null): void => reject(new Error(`${binary} exited with ${code}: ${log}`))
    child.stdout?.on('data', onData)
    child.once('error', reject)
    child.once('exit', onExit)
  })
  return child
}

/**
 * Spawns on a free port: `args(port)` gives the arguments. freePort's port can be taken by another
 * test file before the server binds it, so a start refused with "Address already in use" is tried
 * again on other ports.
 */
export async function spawnOnFreePort (binary: string, args: (port: number) => Promise<string[]> | string[], readyLine: RegExp): Promise<[number, ChildProcess]> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return [port, await spawnRedis(binary, await args(port), readyLine)]
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('Address already in use')) throw err
    }
  }
}

/** Processes by port, each killed at teardown; a temporary folder for their files. */
export class Processes {
  readonly byPort = new Map<number, ChildProcess>()
  readonly dir = mkdtempSync(join(tmpdir(), 'chat-api-redis-'))
  private readonly clients = new Set<Redis>()

  constructor (t: Teardown, private readonly auth: TopologyAuth = {}) {
    t.teardown(() => this.stopAll())
    // A test process that exits before its teardown ran (a crash, a timeout) must not leave
    // orphaned servers behind: kill is synchronous, so it works in an `exit` listener.
    process.once('exit', this.killNow)
  }

  private readonly killNow = (): void => {
    for (const child of this.byPort.values()) child.kill('SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** A client to one node (a sentinel when `sentinel`), disconnected at teardown. */
  client (port: number, sentinel = false): Redis {
    const password = sentinel ? this.auth.sentinelPassword : this.auth.password
    const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null })
    client.on('error', () => {})
    this.clients.add(client)
    return client
  }

  kill (port: number, signal: NodeJS.Signals = 'SIGKILL'): void {
    this.byPort.get(port)?.kill(signal)
  }

  private async stopAll (): Promise<void> {
    process.off('exit', this.killNow)
    for (const client of this.clients) client.disconnect()
    await Promise.all([...this.byPort.values()].map(async child => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    }))
    rmSync(this.dir, { recursive: true, force: true })
  }
}
