/**
 * The churn scenario's side of the load generator: 1 000 listeners (10 rooms x 100, split over the
 * two instances) receive while short-lived connections open, join two of those rooms, send one
 * message, see it come back and close, over and over. Closed loop (`concurrency` cycles at once,
 * as fast as the servers allow: the peak) or open loop (`rate` cycles started per second: the
 * soak). A cycle that fails (refused, timed out) is counted, never retried.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Histogram } from './histogram.mjs'
import { PROTOCOLS, makeData, nowUs } from './clients.mjs'

export const CHURN_ROOMS = 10
export const CHURN_LISTENERS = 100
const CYCLE_TIMEOUT_MS = 10000
const MAX_IN_FLIGHT = 2000

/** `openMany`, `onDelivery` and `current` are the load generator's (its listener bookkeeping). */
export function churnCommands (openMany, onDelivery, current) {
  const listeners = new Map() // target -> its listening sockets
  let lastStamp = 0

  async function listen ({ target, protocol, ports }) {
    const count = CHURN_ROOMS * CHURN_LISTENERS
    listeners.set(target, await openMany(protocol, count, 50, (i) => [ports[i % ports.length], `c${i % CHURN_ROOMS}`], onDelivery))
    return { sockets: count }
  }

  /** One connection's life; resolves with its duration in ms, or null when it failed. */
  async function cycle (Client, ports, n, stepId) {
    const started = performance.now()
    let client = null
    let timer
    try {
      // Unique and within a µs or so of now: the sender tells its own copy from the others' by it,
      // and the listeners measure latency from it.
      const stamp = lastStamp = Math.max(nowUs(), lastStamp + 1)
      let echoed
      const echo = new Promise(resolve => { echoed = resolve })
      client = await Client.open(ports[n % ports.length], `c${n % CHURN_ROOMS}`, (step, sent) => {
        if (sent === stamp) echoed()
      }, { alsoJoin: `c${(n + 1) % CHURN_ROOMS}`, timeoutMs: CYCLE_TIMEOUT_MS })
      client.publish([makeData(stepId, stamp)])
      await Promise.race([echo, new Promise((resolve, reject) => {
        timer = setTimeout(() => reject(new Error('no echo')), CYCLE_TIMEOUT_MS)
      })])
      return performance.now() - started
    } catch {
      return null
    } finally {
      clearTimeout(timer)
      client?.close()
    }
  }

  /**
   * Runs cycles for `durationMs`: `concurrency` at a time, or `rate` started per second. Listener
   * deliveries are counted as a step's (`stepId`), so their latency is measured too.
   */
  async function run ({ protocol, ports, durationMs, concurrency, rate, stepId, graceMs }) {
    const Client = PROTOCOLS[protocol]
    const hist = new Histogram()
    let done = 0
    let failed = 0
    let skipped = 0
    let n = 0
    const finish = (ms) => {
      if (ms === null) failed++
      else { done++; hist.record(ms * 1000) }
    }
    current.step = stepId
    current.delivered = 0
    current.stale = 0
    current.hist = new Histogram()
    const t0 = performance.now()
    const deadline = t0 + durationMs
    if (rate === undefined) {
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) finish(await cycle(Client, ports, n++, stepId))
      }))
    } else {
      const inFlight = new Set()
      let started = 0
      while (performance.now() < deadline) {
        const due = Math.floor(rate * (performance.now() - t0) / 1000)
        for (; started < due; started++) {
          if (inFlight.size >= MAX_IN_FLIGHT) { skipped++; continue }
          const p = cycle(Client, ports, n++, stepId).then(finish)
          inFlight.add(p)
          p.finally(() => inFlight.delete(p))
        }
        await sleep(5)
      }
      await Promise.all(inFlight)
    }
    const wallMs = performance.now() - t0
    const expected = (done + failed) * CHURN_LISTENERS
    const waitStart = performance.now()
    while (current.delivered < done * CHURN_LISTENERS && performance.now() - waitStart < graceMs) await sleep(5)
    current.step = -1
    return {
      cycles: done,
      failed,
      skipped,
      wallMs,
      cyclesPerSec: done / (wallMs / 1000),
      cycleMs: hist.summary(), // the histogram records µs; summary() reports ms
      delivered: current.delivered,
      expected,
      latencyMs: current.hist.summary()
    }
  }

  async function close ({ target }) {
    for (const client of listeners.get(target) ?? []) client.close()
    listeners.delete(target)
    await sleep(200)
    return {}
  }

  return { 'churn-listen': listen, 'churn-run': run, 'churn-close': close }
}
