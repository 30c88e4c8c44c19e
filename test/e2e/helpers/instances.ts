/**
 * Real chat-api processes for the end-to-end tests: `node dist/server.js` (run `npm run build`
 * first; `npm test` does), each on a port of its own that it keeps across restarts, so a proxy in
 * front of it needs no reconfiguration. Stop with SIGTERM (graceful) or SIGKILL (a crash), start
 * again, and wait for `/ready`. Every process still running is killed at teardown.
 *
 *   const cluster = await startInstances(t, 3, { REDIS_URL, REDIS_CHANNEL_PREFIX: uniquePrefix() })
 *   await cluster[0].restart()            // SIGTERM, exit, start, ready
 *   await cluster[1].stop('SIGKILL'); await cluster[1].start()
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { PREFIX } from '../../helper.js'
import { freePort } from '../../redis-helper.js'

const SERVER = fileURLToPath(new URL('../../../dist/server.js', import.meta.url))

interface Teardown { teardown: (fn: () => unknown) => void }

export type Env = Record<string, string | number | boolean>

export interface InstanceOptions {
  /** Shown in failures; default `instance-<port>`. */
  name?: string
  /** Environment of the process, on top of PORT, HOST=127.0.0.1, LOG_LEVEL=warn and PATH. */
  env?: Env
  /** How long start() waits for `/ready`; default 60 s (a bound for a loaded 2-core machine: it takes 2 to 5 s). */
  readyTimeoutMs?: number
}

export class Instance {
  readonly name: string
  private child: ChildProcess | null = null
  private exited: Promise<number | null> = Promise.resolve(null)
  /** Every start's stdout and stderr, in one file (read by `log()`). */
  readonly logFile: string

  constructor (readonly port: number, private readonly dir: string, private readonly opts: InstanceOptions = {}) {
    this.name = opts.name ?? `instance-${port}`
    this.logFile = join(dir, `${this.name}.log`)
  }

  /** `http://127.0.0.1:PORT/api/chat-api` */
  get http (): string {
    return `http://127.0.0.1:${this.port}${PREFIX}`
  }

  /** `ws://127.0.0.1:PORT/api/chat-api` */
  get ws (): string {
    return `ws://127.0.0.1:${this.port}${PREFIX}`
  }

  get pid (): number | undefined {
    return this.child?.pid
  }

  get running (): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null
  }

  /** What the process printed so far, every run of it. */
  log (): string {
    try {
      return readFileSync(this.logFile, 'utf8')
    } catch {
      return ''
    }
  }

  /** Spawns the server and resolves once `/ready` answers 200. */
  async start (): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`)
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...Object.fromEntries(Object.entries(this.opts.env ?? {}).map(([k, v]) => [k, String(v)])),
      PORT: String(this.port)
    }
    // Its own working directory: server.js reads `.env` from there, and a developer's must not leak in.
    const child = spawn(process.execPath, [SERVER], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const out = createWriteStream(this.logFile, { flags: 'a' })
    out.write(`--- start pid ${child.pid} at ${new Date().toISOString()}\n`)
    child.stdout?.pipe(out, { end: false })
    child.stderr?.pipe(out, { end: false })
    this.child = child
    // 'close', not 'exit': the output is all in the file by then.
    this.exited = new Promise(resolve => child.once('close', (code, signal) => {
      out.end(`--- exit ${code ?? signal}\n`)
      resolve(code)
    }))
    await this.waitReady()
  }

  /** Polls `/ready` until 200; fails at once if the process exits meanwhile. */
  async waitReady (timeoutMs = this.opts.readyTimeoutMs ?? 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last = 'no answer'
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.log()}`)
      try {
        const res = await fetch(`${this.http}/ready`, { signal: AbortSignal.timeout(1000) })
        last = `${res.status} ${await res.text()}`
        if (res.status === 200) return
      } catch (err) {
        last = (err as Error).message
      }
      await sleep(50)
    }
    throw new Error(`${this.name} not ready within ${timeoutMs} ms (last: ${last}):\n${this.log()}`)
  }

  /** Sends `signal` without waiting; resolves with the exit code (null when killed by a signal). */
  signal (signal: NodeJS.Signals): Promise<number | null> {
    if (this.running) this.child?.kill(signal)
    return this.exited
  }

  /** SIGTERM (graceful shutdown, exit code 0 expected) or SIGKILL (a crash); waits for the exit. */
  async stop (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<number | null> {
    return this.signal(signal)
  }

  /** stop(signal), then start() on the same port. */
  async restart (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.stop(signal)
    await this.start()
  }
}

/** One instance that is not started yet, on a free port, killed at teardown. */
export async function createInstance (t: Teardown, opts: InstanceOptions = {}): Promise<Instance> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-instance-'))
  const instance = new Instance(await freePort(), dir, opts)
  t.teardown(async () => {
    if (instance.running) await instance.stop('SIGKILL')
    if (process.env.KEEP_E2E_LOGS === undefined) rmSync(dir, { recursive: true, force: true })
  })
  return instance
}

/** `count` instances with the same environment (one cluster when it has REDIS_URL), all ready. */
export async function startInstances (t: Teardown, count: number, env: Env = {}): Promise<Instance[]> {
  const instances: Instance[] = []
  for (let i = 0; i < count; i++) instances.push(await createInstance(t, { name: `instance-${i + 1}`, env }))
  await Promise.all(instances.map(instance => instance.start()))
  return instances
}

/** Resolves once `predicate` holds, checking every 50 ms; for states seen from outside a process. */
export async function until (what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(50)
  }
}
