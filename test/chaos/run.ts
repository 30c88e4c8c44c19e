/**
 * One chaos run: a throw-away Redis, three instances (real processes) each behind its own proxy to
 * Redis, members in every room sending at a steady rate, the seed's fault schedule, then the end
 * checks and the checker's verdict over the whole record.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createInstance, type Instance } from '../e2e/helpers/instances.js'
import { checkRun, type CheckResult, type DeadlineWindow, type Violation } from './checker.js'
import { instancesReady, membersBack, presenceConverges, probeRooms, RssSampler } from './end-checks.js'
import { deadlineWindow, inject, startInstance, targetOf, TargetQueue, type World } from './faults.js'
import { RawMember, startTraffic, TypedMember, type Member } from './members.js'
import { startRedis } from './setup.js'
import { describeFault, faultSchedule, type ScheduledFault } from './schedule.js'
import { readHistories } from './stored-histories.js'
import type { MemberLog } from './history-log.js'

export interface ChaosOptions {
  seed: number
  /** Length of the fault phase. */
  faultSeconds: number
  rooms?: number
  /** Each member sends one message this often. */
  sendEveryMs?: number
  /** Peak RSS allowed per app instance. */
  rssBoundMb?: number
  /** The Sentinel variant: master, replica and 3 sentinels, lossy failovers instead of restarts. */
  sentinel?: boolean
  /** Progress lines (faults as they start); default none. */
  log?: (line: string) => void
}

export interface ChaosReport extends CheckResult {
  seed: number
  faultSeconds: number
  sentinel: boolean
  faults: ScheduledFault[]
  faultErrors: string[]
  seconds: number
  peakRssMb: Record<string, number>
  /** Every member's frames and sends, as the checker read them (`npm run chaos -- --record FILE` writes them). */
  members: MemberLog[]
}

const INSTANCES = 3
const HISTORY_SIZE = 10_000
const PRESENCE_TTL_SEC = 6
/** A raw send with no reply in this time while its socket stayed open is a finding (deadline 2 s, plenty of slack). */
const UNANSWERED_MS = 10_000
/** Slack on PRESENCE_TTL_SEC for a loaded machine (the bound is derived from the configured TTL). */
const PRESENCE_SLACK_MS = 3000
const MEMBERS_BACK_WITHIN_MS = 30_000
const SHUTDOWN_TIMEOUT_MS = 3000

type Teardown = Array<() => unknown>

export async function runChaos (opts: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now()
  const log = opts.log ?? (() => {})
  const roomNames = Array.from({ length: opts.rooms ?? 12 }, (_, r) => `room-${String(r).padStart(2, '0')}`)
  const faults = faultSchedule({ seed: opts.seed, durationMs: opts.faultSeconds * 1000, instances: INSTANCES, sentinel: opts.sentinel })
  const teardown: Teardown = []
  const t = { teardown: (fn: () => unknown) => { teardown.push(fn) } }
  const members: Member[] = []
  try {
    const { redis, proxies, env: redisEnv } = await startRedis(t, INSTANCES, opts.sentinel === true)
    const prefix = `chaos-${opts.seed}`
    const instances: Instance[] = []
    for (let i = 0; i < INSTANCES; i++) {
      instances.push(await createInstance(t, {
        name: `instance-${i + 1}`,
        env: {
          ...redisEnv[i],
          REDIS_CHANNEL_PREFIX: prefix,
          HISTORY_SIZE,
          PRESENCE_TTL_SEC,
          WS_RATE_LIMIT_PER_SEC: 0,
          SHUTDOWN_TIMEOUT_MS,
          // The end checks poll the HTTP routes often from one address.
          HTTP_RATE_LIMIT_PER_MIN: 100_000
        }
      }))
    }
    await Promise.all(instances.map(startInstance))
    const world: World = { redis, proxies, instances, findings: [], shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS }
    const rss = new RssSampler(() => [...instances.map(i => [i.name, i.pid] as [string, number | undefined]), ...redis.pids])

    // Each room: a typed member, a raw member that resumes and sends with keys, a raw member that
    // rejoins fresh and sends without; on three different instances.
    roomNames.forEach((room, r) => {
      const on = (j: number): [number, string] => [(r + j) % INSTANCES, instances[(r + j) % INSTANCES].ws]
      members.push(new TypedMember(`t${r}`, ...on(0), room))
      members.push(new RawMember(`k${r}`, ...on(1), room, true, true))
      members.push(new RawMember(`u${r}`, ...on(2), room, false, false))
    })
    // Instances first: their sockets then close at once, with no closing handshake to wait for.
    t.teardown(async () => {
      await Promise.all(instances.map(i => i.stop('SIGKILL')))
      await Promise.all(members.map(m => m.close()))
    })
    const startViolations = await membersBack(members, MEMBERS_BACK_WITHIN_MS)
    if (startViolations.length > 0) throw new Error(`members could not join before any fault: ${startViolations.map(v => v.member).join(', ')}`)

    const stopTraffic = startTraffic(members, opts.sendEveryMs ?? 1000)
    t.teardown(stopTraffic)
    await sleep(2000)

    // The schedule: each fault at its time, after the earlier faults on its target.
    const queue = new TargetQueue()
    const faultErrors: string[] = []
    const deadlineWindows: DeadlineWindow[] = []
    const phaseStart = Date.now()
    await Promise.all(faults.map(async fault => {
      await sleep(Math.max(0, phaseStart + fault.atMs - Date.now()))
      await queue.run(targetOf(fault), async () => {
        log(`${((Date.now() - started) / 1000).toFixed(1)}s ${describeFault(fault)}`)
        const from = Date.now()
        try {
          await inject(world, fault)
        } finally {
          const window = deadlineWindow(fault, from, Date.now())
          if (window !== null) deadlineWindows.push(window)
        }
      }).catch((err: Error) => { faultErrors.push(`${describeFault(fault)}: ${err.message}`) })
    }))
    const lastFaultEnd = Date.now()
    log(`${((lastFaultEnd - started) / 1000).toFixed(1)}s last fault healed`)

    const live: Violation[] = [...world.findings]
    for (const instance of instances.filter(i => !i.running)) {
      live.push({ kind: 'instance-not-ready', detail: `${instance.name} is not running after the last fault` })
      await startInstance(instance).catch(() => {})
    }
    live.push(...await instancesReady(instances, MEMBERS_BACK_WITHIN_MS))
    live.push(...await membersBack(members, MEMBERS_BACK_WITHIN_MS))
    stopTraffic()
    const [probes, presence] = await Promise.all([
      probeRooms(instances, members, roomNames),
      presenceConverges(instances, members, roomNames, Math.max(lastFaultEnd + PRESENCE_TTL_SEC * 1000 + PRESENCE_SLACK_MS, Date.now() + 1000))
    ])
    live.push(...probes, ...presence)
    // Sends still in flight get the time the checker allows them.
    const settleBy = Date.now() + UNANSWERED_MS
    while (members.some(m => m.log.sends.some(s => s.outcome === 'pending')) && Date.now() < settleBy) await sleep(100)
    const endAt = Date.now()
    live.push(...rss.stop(opts.rssBoundMb ?? 300))

    const histories = await readHistories(redis.url, prefix, roomNames)
    const result = checkRun({ members: members.map(m => m.log), histories, historySize: HISTORY_SIZE, endAt, unansweredMs: UNANSWERED_MS, deadlineWindows })
    return {
      seed: opts.seed,
      faultSeconds: opts.faultSeconds,
      sentinel: opts.sentinel === true,
      faults,
      faultErrors,
      ...result,
      violations: [...result.violations, ...live],
      seconds: Math.round((Date.now() - started) / 1000),
      peakRssMb: Object.fromEntries(rss.peakMb),
      members: members.map(m => m.log)
    }
  } finally {
    for (const fn of teardown.reverse()) await Promise.resolve().then(fn).catch(() => {})
  }
}
