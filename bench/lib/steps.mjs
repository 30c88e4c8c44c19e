/**
 * A measured step (one offered rate for a while, with every process's CPU read around it) and the
 * ramp that finds a target's highest sustained rate, for any room shape. Made once per run by
 * `stepper`, which holds what every step needs: the load generator, the run's Redis and the limits.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { redisCpuMs } from './redis.mjs'
import { cpuMs, machineBusyMs, rssKb } from './proc.mjs'

const GRACE_MS = 1000
const MIN_DELIVERED = 0.95
const MAX_P99_MS = 100
const MAX_STEPS = 20
export const LIMITS = { graceMs: GRACE_MS, minDelivered: MIN_DELIVERED, maxP99Ms: MAX_P99_MS }

export function stepper ({ lg, redisUrl, log }) {
  let stepSeq = 0

  /** One step at `rate` messages/s; `members` is the number of listeners each message reaches. */
  async function measuredStep (name, instances, members, rate, durationMs) {
    const pids = instances.map(i => i.pid)
    const sum = (xs) => xs.reduce((a, b) => a + b, 0)
    const cpuBefore = sum(pids.map(cpuMs))
    const lgBefore = cpuMs(lg.pid)
    const busyBefore = machineBusyMs()
    const redisBefore = await redisCpuMs(redisUrl)
    const started = performance.now()
    const res = await lg.ask('step', { target: name, rate, durationMs, graceMs: GRACE_MS, stepId: ++stepSeq })
    const wallMs = performance.now() - started
    const redisMs = await redisCpuMs(redisUrl) - redisBefore
    const messages = res.expected / members
    const serverCpuMs = sum(pids.map(cpuMs)) - cpuBefore
    const loadgenCpuMs = cpuMs(lg.pid) - lgBefore
    // Everything else the machine did meanwhile: Redis, the kernel, and whatever else is running.
    const otherCpuMs = machineBusyMs() - busyBefore - serverCpuMs - loadgenCpuMs
    const pass = res.delivered >= MIN_DELIVERED * res.expected && res.latencyMs.p99 !== null && res.latencyMs.p99 <= MAX_P99_MS
    return {
      ...res,
      rate,
      offeredDeliveriesPerSec: rate * members,
      pass,
      serverCpuMs,
      cpuUsPerDelivery: res.delivered > 0 ? serverCpuMs * 1000 / res.delivered : null,
      serverCores: serverCpuMs / wallMs,
      loadgenCores: loadgenCpuMs / wallMs,
      otherCores: otherCpuMs / wallMs,
      loadgenUsPerDelivery: res.delivered > 0 ? loadgenCpuMs * 1000 / res.delivered : null,
      redisUsPerMessage: messages > 0 ? redisMs * 1000 / messages : null,
      // The servers' resident memory at the end of the step, both instances together.
      rssMb: sum(pids.map(rssKb)) / 1024
    }
  }

  function describe (name, s) {
    return `${name.padEnd(8)} ${String(Math.round(s.rate)).padStart(6)} msg/s -> ${Math.round(s.deliveredPerSec).toString().padStart(7)} deliveries/s ` +
      `(${(100 * s.delivered / s.expected).toFixed(1)}%) p99 ${s.latencyMs.p99 ?? '-'} ms, ` +
      `servers ${s.serverCores.toFixed(2)} cores ${s.cpuUsPerDelivery?.toFixed(2)} µs/delivery, loadgen ${s.loadgenCores.toFixed(2)}, other ${s.otherCores.toFixed(2)} cores ${s.pass ? '' : 'FAIL'}`
  }

  /**
   * Steps the offered rate up by `coarse` until a step fails, then retries from the last passing
   * rate by 8% steps up to the failing one. A failure is confirmed by a second try at the same rate,
   * since on a shared machine one burst from a neighbour can spoil a step. The best passing step is
   * the sustained rate.
   */
  async function ramp (name, instances, members, startRate, coarse, stepMs) {
    const steps = []
    const tryRate = async (rate) => {
      let s = await measuredStep(name, instances, members, rate, stepMs)
      log(describe(name, s))
      steps.push(s)
      if (!s.pass) {
        await sleep(GRACE_MS) // let the backlog of an overloaded step drain before the next one
        s = await measuredStep(name, instances, members, rate, stepMs)
        log(describe(name, s), '(confirming)')
        steps.push(s)
        if (!s.pass) await sleep(GRACE_MS)
      }
      return s
    }
    let rate = startRate
    let factor = coarse
    let lastPass = null
    let failedAt = Infinity
    let failed = null
    while (steps.length < MAX_STEPS) {
      const s = await tryRate(rate)
      if (s.pass) {
        lastPass = rate
      } else {
        failedAt = Math.min(failedAt, rate)
        failed ??= s
        if (lastPass === null) {
          // Even the first rate failed (a busy machine, or a start set from a lucky round): go lower.
          if (rate <= 50) break
          rate = Math.round(rate / 2)
          continue
        }
        if (factor <= 1.08) break
        factor = 1.08
      }
      rate = Math.round(lastPass * factor)
      if (rate >= failedAt * 0.98) break
    }
    const passing = steps.filter(s => s.pass)
    const best = passing.reduce((a, b) => (a === null || b.deliveredPerSec > a.deliveredPerSec ? b : a), null)
    return { best, failed, steps }
  }

  return { measuredStep, ramp, describe }
}
