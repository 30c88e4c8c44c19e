/**
 * Carries out one scheduled fault on the running system. Faults on one target (Redis, one proxy,
 * one instance) wait for each other; faults on different targets overlap. Every fault leaves its
 * target healed: a stopped process is started again, a paused Redis unpaused.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Instance } from '../e2e/helpers/instances.js'
import type { DeadlineWindow } from './member-walk.js'
import type { Violation } from './violations.js'
import type { ChaosProxy } from './proxy.js'
import type { KillScope, ScheduledFault } from './schedule.js'

/** The Redis of the run: one server (restarts) or the Sentinel set-up (lossy failover). */
export interface RedisUnderTest {
  /** An admin command on the (current master) server. */
  command: (...args: Array<string | number>) => Promise<unknown>
  restart?: (mode: 'save' | 'snapshot' | 'empty', downMs: number, staleMs: number) => Promise<void>
  failoverLosingWrites?: (staleMs: number) => Promise<void>
}

export interface World {
  redis: RedisUnderTest
  /** One per instance; none in the Sentinel variant. */
  proxies: ChaosProxy[]
  instances: Instance[]
  /** What went wrong while injecting (a shutdown that hung): violations like the checker's. */
  findings: Violation[]
  /** The instances' SHUTDOWN_TIMEOUT_MS: a SIGTERM must end the process within it (plus slack). */
  shutdownTimeoutMs: number
}

function needs<T> (what: T | undefined, fault: string): T {
  if (what === undefined) throw new Error(`${fault} does not apply to this Redis set-up`)
  return what
}

/** How long a stopped instance may take to be ready again (a loaded 2-core machine). */
const RESTART_WITHIN_MS = 60_000
/** Slack on SHUTDOWN_TIMEOUT_MS for a SIGTERM'd process to exit on a loaded machine. */
const SHUTDOWN_SLACK_MS = 5000

/** Starts an instance, retrying while it cannot (its Redis may be restarting meanwhile). */
export async function startInstance (instance: Instance): Promise<void> {
  const deadline = Date.now() + RESTART_WITHIN_MS
  for (;;) {
    try {
      await instance.start()
      return
    } catch (err) {
      if (instance.running) await instance.stop('SIGKILL')
      if (Date.now() > deadline) throw err
      await sleep(500)
    }
  }
}

/** The hub id of a running instance: its Redis connections are named `chat-api:<id>:pub|sub`. */
async function instanceIdOf (instance: Instance): Promise<string | null> {
  try {
    const stats = await (await fetch(`${instance.http}/ws/stats`, { signal: AbortSignal.timeout(5000) })).json() as { instanceId: string }
    return stats.instanceId
  } catch {
    return null
  }
}

/** CLIENT KILL of every connection of one type, or of one instance's connections of that type. */
async function killClients (world: World, type: 'normal' | 'pubsub', scope: KillScope): Promise<void> {
  if (scope === 'all') {
    await world.redis.command('CLIENT', 'KILL', 'TYPE', type)
    return
  }
  const id = await instanceIdOf(world.instances[scope])
  if (id === null) return // down: nothing of it to kill
  const list = await world.redis.command('CLIENT', 'LIST', 'TYPE', type) as string
  for (const line of list.split('\n')) {
    if (!line.includes(`name=chat-api:${id}:`)) continue
    const clientId = /(?:^|\s)id=(\d+)/.exec(line)?.[1]
    if (clientId !== undefined) await world.redis.command('CLIENT', 'KILL', 'ID', clientId).catch(() => {})
  }
}

async function pause (world: World, ms: number, mode: 'WRITE' | 'ALL', killDuring: boolean): Promise<void> {
  await world.redis.command('CLIENT', 'PAUSE', ms, mode)
  if (killDuring) {
    // The subscriber goes first (a resync starts, its read waits behind the pause), then the
    // command connection that carries that read.
    await sleep(Math.min(200, ms / 4))
    await world.redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await sleep(Math.min(300, ms / 4))
    await world.redis.command('CLIENT', 'KILL', 'TYPE', 'normal')
  }
  await sleep(ms)
  await world.redis.command('CLIENT', 'UNPAUSE').catch(() => {}) // it has expired by now
}

/** SIGTERM; a shutdown that outlives its bound is a finding, and the process is then killed. */
async function stopGracefully (world: World, instance: Instance): Promise<void> {
  const boundMs = world.shutdownTimeoutMs + SHUTDOWN_SLACK_MS
  const exited = instance.signal('SIGTERM').then(() => true)
  if (!await Promise.race([exited, sleep(boundMs).then(() => false)])) {
    world.findings.push({ kind: 'shutdown-hung', detail: `${instance.name} still running ${boundMs} ms after SIGTERM (SHUTDOWN_TIMEOUT_MS ${world.shutdownTimeoutMs})` })
    await instance.stop('SIGKILL')
  }
}

/** REDIS_COMMAND_TIMEOUT_MS's default plus slack: how long after a fault a deadline may still expire. */
const DEADLINE_AFTER_MS = 2000 + 2000

/**
 * While a fault that delays or fails an instance's commands lasts (and a deadline after), a 4010
 * may be a read that timed out, and a resume may be answered `recovered:false` (the contract's
 * "Redis unreachable": a join is answered as usual, not recovered). A Redis restart makes Redis
 * unreachable too, so it excuses a `recovered:false`, but never a 4010: it must close no socket.
 */
export function deadlineWindow (fault: ScheduledFault, from: number, to: number): DeadlineWindow | null {
  const window = (instance: number | null): DeadlineWindow => ({ from, to: to + DEADLINE_AFTER_MS, instance })
  switch (fault.kind) {
    case 'proxy-cut': case 'proxy-stall': case 'proxy-reset': return window(fault.instance)
    case 'kill-normal': case 'kill-pubsub': return window(fault.scope === 'all' ? null : fault.scope)
    case 'pause': return window(null)
    case 'redis-restart': return { ...window(null), redisRestart: true }
    default: return null
  }
}

export function targetOf (fault: ScheduledFault): string {
  switch (fault.kind) {
    case 'proxy-cut': case 'proxy-stall': case 'proxy-reset': return `proxy-${fault.instance}`
    case 'sigterm': case 'sigkill': return `instance-${fault.instance}`
    default: return 'redis'
  }
}

export async function inject (world: World, fault: ScheduledFault): Promise<void> {
  switch (fault.kind) {
    case 'proxy-cut': return await world.proxies[fault.instance].cut(fault.ms)
    case 'proxy-stall': return await world.proxies[fault.instance].stall(fault.ms)
    case 'proxy-reset': return world.proxies[fault.instance].reset()
    case 'kill-normal': return await killClients(world, 'normal', fault.scope)
    case 'kill-pubsub': return await killClients(world, 'pubsub', fault.scope)
    case 'pause': return await pause(world, fault.ms, fault.mode, fault.killDuring)
    case 'redis-restart': return await needs(world.redis.restart, fault.kind).call(world.redis, fault.mode, fault.downMs, fault.staleMs)
    case 'sigterm':
    case 'sigkill': {
      const instance = world.instances[fault.instance]
      if (fault.kind === 'sigterm') await stopGracefully(world, instance)
      else await instance.stop('SIGKILL')
      await sleep(fault.downMs)
      return await startInstance(instance)
    }
    case 'failover-lost-writes': return await needs(world.redis.failoverLosingWrites, fault.kind).call(world.redis, fault.staleMs)
  }
}

/** Runs `fn` once every earlier task on `target` is done. */
export class TargetQueue {
  private readonly tails = new Map<string, Promise<void>>()

  run (target: string, fn: () => Promise<void>): Promise<void> {
    const done = (this.tails.get(target) ?? Promise.resolve()).then(fn)
    this.tails.set(target, done.catch(() => {}))
    return done
  }
}
