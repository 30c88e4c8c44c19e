/**
 * The fault schedule of a chaos run: a pure function of the seed, the run's length and the
 * topology, so a failing seed replays the same faults in the same order with the same parameters.
 * Faults start `atMs` after the fault phase begins; faults on different targets may overlap, faults
 * on one target (Redis, one proxy, one instance) run one after the other (see faults.ts).
 */
import { Prng } from './prng.js'

/** Which connections a CLIENT KILL hits: every one of that type, or one instance's (by name). */
export type KillScope = 'all' | number

export type Fault =
  /** The proxy between an instance and Redis drops every connection and refuses new ones for `ms`. */
  | { kind: 'proxy-cut', instance: number, ms: number }
  /** The proxy forwards nothing, either way, for `ms` (connections stay open). */
  | { kind: 'proxy-stall', instance: number, ms: number }
  /** The proxy resets (RST) every connection once; reconnects are let through. */
  | { kind: 'proxy-reset', instance: number }
  | { kind: 'kill-normal', scope: KillScope }
  | { kind: 'kill-pubsub', scope: KillScope }
  /**
   * CLIENT PAUSE for `ms`; with `killDuring`, a WRITE pause during which the pub/sub and then the
   * command connections are killed (a resync's script waits, then loses its connection).
   */
  | { kind: 'pause', ms: number, mode: 'WRITE' | 'ALL', killDuring: boolean }
  /**
   * Redis stopped and started again after `downMs`: `save` keeps every write (SHUTDOWN SAVE),
   * `snapshot` comes back from a snapshot taken `staleMs` before a SIGKILL (acknowledged writes
   * lost, an older history), `empty` comes back with no data at all.
   */
  | { kind: 'redis-restart', mode: 'save' | 'snapshot' | 'empty', downMs: number, staleMs: number }
  /** An instance stopped (graceful or crash) and started again after `downMs`. */
  | { kind: 'sigterm' | 'sigkill', instance: number, downMs: number }
  /**
   * Sentinel only: the replica is frozen (SIGSTOP) for `staleMs` while writes go on, then the
   * master is killed and the stale replica promoted: the writes it missed are lost.
   */
  | { kind: 'failover-lost-writes', staleMs: number }

export type FaultKind = Fault['kind']

export type ScheduledFault = Fault & { atMs: number }

export interface ScheduleOptions {
  seed: number
  /** Length of the fault phase; faults start within it. */
  durationMs: number
  instances: number
  sentinel?: boolean
}

const KINDS: FaultKind[] = [
  'proxy-cut', 'proxy-stall', 'proxy-reset', 'kill-normal', 'kill-pubsub', 'pause', 'redis-restart', 'sigterm', 'sigkill'
]

function draw (rng: Prng, kind: FaultKind, opts: ScheduleOptions): Fault {
  const instance = rng.int(0, opts.instances - 1)
  const scope = (): KillScope => rng.chance(0.5) ? 'all' : rng.int(0, opts.instances - 1)
  switch (kind) {
    case 'proxy-cut': return { kind, instance, ms: rng.int(200, 3000) }
    // Past REDIS_COMMAND_TIMEOUT_MS (2 s) half the time: commands in flight must hit their deadline.
    case 'proxy-stall': return { kind, instance, ms: rng.int(200, 4000) }
    case 'proxy-reset': return { kind, instance }
    case 'kill-normal':
    case 'kill-pubsub': return { kind, scope: scope() }
    case 'pause': {
      const killDuring = rng.chance(0.5)
      return { kind, ms: rng.int(500, 3000), mode: killDuring || rng.chance(0.5) ? 'WRITE' : 'ALL', killDuring }
    }
    case 'redis-restart': return { kind, mode: rng.pick(['save', 'snapshot', 'empty'] as const), downMs: rng.int(100, 2000), staleMs: rng.int(200, 1500) }
    case 'sigterm':
    case 'sigkill': return { kind, instance, downMs: rng.int(0, 2000) }
    case 'failover-lost-writes': return { kind, staleMs: rng.int(300, 1500) }
  }
}

/** The faults of one run, in start order. */
export function faultSchedule (opts: ScheduleOptions): ScheduledFault[] {
  const rng = new Prng(opts.seed)
  const kinds = opts.sentinel === true
    // The instances reach the master the sentinels name, with no proxy between; the lossy
    // failover stands for the restarts of the single Redis.
    ? [...KINDS.filter(k => k !== 'redis-restart' && !k.startsWith('proxy-')), 'failover-lost-writes' as const]
    : KINDS
  const faults: ScheduledFault[] = []
  for (let at = rng.int(0, 1000); at < opts.durationMs; at += rng.int(500, 3000)) {
    faults.push({ atMs: at, ...draw(rng, rng.pick(kinds), opts) })
  }
  return faults
}

/** One line per fault, for the report and for reading a failing seed. */
export function describeFault (fault: ScheduledFault): string {
  const { atMs, kind, ...rest } = fault
  const params = Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`).join(' ')
  return `+${(atMs / 1000).toFixed(1)}s ${kind}${params === '' ? '' : ' ' + params}`
}
