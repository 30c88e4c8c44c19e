/**
 * The checks that need the live system once the last fault is healed: every member is back, no
 * room is frozen (a probe from every instance reaches every member within 10 s), presence lists
 * and `/cluster` converge within PRESENCE_TTL_SEC, and no process grew past its memory bound.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Instance } from '../e2e/helpers/instances.js'
import type { Violation } from './violations.js'
import type { Member } from './members.js'

/** The contract's bound for a probe: every open member hears it within this. */
export const PROBE_WITHIN_MS = 10_000
const HTTP_TIMEOUT_MS = 5000

async function getJson (url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) })
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`)
  return await res.json()
}

/** Waits until every member is open and in its room; those that are not by `withinMs` are reported. */
export async function membersBack (members: Member[], withinMs: number): Promise<Violation[]> {
  const deadline = Date.now() + withinMs
  while (members.some(m => !m.ready) && Date.now() < deadline) await sleep(100)
  return members.filter(m => !m.ready).map(m => ({ kind: 'member-not-back', member: m.log.name, room: m.log.room, detail: `not open and joined ${withinMs} ms after the last fault` }))
}

/** Waits until every instance's `/ready` answers 200 (Redis connected and subscribed again). */
export async function instancesReady (instances: Instance[], withinMs: number): Promise<Violation[]> {
  const violations = await Promise.all(instances.map(async (instance): Promise<Violation | null> => {
    try {
      await instance.waitReady(withinMs)
      return null
    } catch {
      return { kind: 'instance-not-ready', detail: `${instance.name}'s /ready not 200 within ${withinMs} ms of the last fault` }
    }
  }))
  return violations.filter(v => v !== null)
}

/** One stored probe per room from every instance (server API); each must reach every ready member. */
export async function probeRooms (instances: Instance[], members: Member[], rooms: string[]): Promise<Violation[]> {
  const violations: Violation[] = []
  await Promise.all(rooms.flatMap(room => instances.map(async (instance, i) => {
    const key = `probe-${room}-${i}`
    let messageId: string | null = null
    let refusal = ''
    // An `unavailable` is allowed while Redis is away: the probe is sent again, with its key, until the bound.
    const sendBy = Date.now() + PROBE_WITHIN_MS
    while (messageId === null && Date.now() < sendBy) {
      try {
        const res = await fetch(`${instance.http}/rooms/${room}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ data: { c: `probe-${i}`, n: 1, k: key, probe: room }, key }),
          signal: AbortSignal.timeout(Math.max(1, sendBy - Date.now()))
        })
        if (res.status === 201) messageId = (await res.json() as { messageId: string }).messageId
        else refusal = `${res.status} ${await res.text()}`
      } catch (err) {
        refusal = (err as Error).message
      }
      if (messageId === null) await sleep(200)
    }
    if (messageId === null) {
      violations.push({ kind: 'probe-refused', room, detail: `${instance.name} stored no probe within ${PROBE_WITHIN_MS} ms: ${refusal}` })
      return
    }
    const storedAt = Date.now()
    const listeners = members.filter(m => m.log.room === room && m.ready)
    // A member whose socket closed meanwhile is not frozen: a raw one that rejoins fresh may miss it.
    const settled = (m: Member): boolean => m.log.entries.some(e =>
      (e.t === 'message' && e.messageId === messageId) || (e.t === 'close' && e.at >= storedAt))
    const deadline = storedAt + PROBE_WITHIN_MS
    while (listeners.some(m => !settled(m)) && Date.now() < deadline) await sleep(50)
    for (const m of listeners.filter(m => !settled(m))) {
      violations.push({ kind: 'room-frozen', member: m.log.name, room, detail: `no probe from ${instance.name} within ${PROBE_WITHIN_MS} ms` })
    }
  })))
  return violations
}

/**
 * Polls until every instance's `/cluster` lists exactly the running instances and every room's
 * presence lists exactly its ready members; reports what still differs at `deadline`.
 */
export async function presenceConverges (instances: Instance[], members: Member[], rooms: string[], deadline: number): Promise<Violation[]> {
  let differences: Violation[] = []
  do {
    differences = []
    try {
      const ids = (await Promise.all(instances.map(async i => (await getJson(`${i.http}/ws/stats`)).instanceId as string))).sort()
      for (const instance of instances) {
        const listed = ((await getJson(`${instance.http}/cluster`)).instances as Array<{ instanceId: string }>).map(x => x.instanceId).sort()
        if (listed.join() !== ids.join()) differences.push({ kind: 'cluster-not-converged', detail: `${instance.name}'s /cluster lists ${listed.length} instances, ${ids.length} run` })
      }
      for (const [r, room] of rooms.entries()) {
        const expected = members.filter(m => m.log.room === room).map(m => m.connectionId).filter(id => id !== null).sort()
        const instance = instances[r % instances.length]
        const listed = ((await getJson(`${instance.http}/rooms/${room}/presence`)).members as Array<{ connectionId: string }>).map(x => x.connectionId).sort()
        if (listed.join() !== expected.join()) {
          const stale = listed.filter(id => !expected.includes(id)).length
          const missing = expected.filter(id => !listed.includes(id)).length
          differences.push({ kind: 'presence-not-converged', room, detail: `${instance.name} lists ${stale} stale and misses ${missing} of ${expected.length} members` })
        }
      }
    } catch (err) {
      differences = [{ kind: 'presence-not-converged', detail: `could not read presence: ${(err as Error).message}` }]
    }
    if (differences.length === 0) return []
    await sleep(250)
  } while (Date.now() < deadline)
  return differences
}

/** Samples the resident memory of the processes `pids()` names, once a second; keeps each name's peak. */
export class RssSampler {
  readonly peakMb = new Map<string, number>()
  private readonly timer: ReturnType<typeof setInterval>

  constructor (pids: () => Array<[string, number | undefined]>) {
    this.timer = setInterval(() => {
      for (const [name, pid] of pids()) {
        if (pid === undefined) continue
        try {
          const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
          this.peakMb.set(name, Math.max(this.peakMb.get(name) ?? 0, Math.round(kb / 1024)))
        } catch {} // the process just exited
      }
    }, 1000)
  }

  stop (boundMb: number): Violation[] {
    clearInterval(this.timer)
    return [...this.peakMb].filter(([, mb]) => mb > boundMb)
      .map(([name, mb]) => ({ kind: 'memory-bound', detail: `${name} reached ${mb} MB RSS (bound ${boundMb} MB)` }))
  }
}
