/**
 * The fan-out scenarios: `rooms` rooms of `members` listeners plus one publisher each, split over
 * the two instances of every target. The offered rate steps up until a target fails (its peak),
 * then latency is measured at half of each target's peak and at one rate every target sustains.
 *
 * - `fanout`: 10 x 100, the cost per recipient (one message, a hundred socket writes);
 * - `small-rooms`: 5 000 x (3 + 1), 2 members on each instance, so every message crosses Redis and
 *   the cost per message dominates.
 *
 * With `perRound` (the small rooms) each target's sockets are opened for its turn and closed after,
 * since three targets' 20 000 sockets at once would pass the load generator's file-descriptor limit.
 */
import { median } from '../lib/stats.mjs'
import { startInstances, stopInstances } from '../lib/servers.mjs'
import { TARGETS } from '../lib/targets.mjs'

export const SHAPES = {
  fanout: { rooms: 10, members: 100, startRate: 100, perRound: false },
  'small-rooms': { rooms: 5000, members: 3, startRate: 1000, perRound: true }
}

/** `run`: { lg, names, rounds, stepMs, latencyMs, redisUrl, runId, log, protocolOf, steps }. */
export async function fanoutScenario (run, shape) {
  const { lg, names, rounds, stepMs, latencyMs, redisUrl, runId, log, protocolOf, steps } = run
  const { rooms, members } = shape
  const fleets = {}
  const open = async (name) => {
    const setup = await lg.ask('setup', { target: name, protocol: protocolOf(name), ports: fleets[name].map(i => i.port), rooms, members })
    log(`${name}: ${setup.sockets} sockets connected in ${Math.round(setup.connectMs)} ms`)
  }
  const close = (name) => lg.ask('teardown', { target: name })
  for (const name of names) {
    fleets[name] = await startInstances(name, 2, { redisUrl, prefix: `${runId}-${shape.key}-${name}` })
    await open(name)
    await steps.measuredStep(name, fleets[name], members, 200, 1000) // JIT warm-up, not counted
    if (shape.perRound) await close(name)
  }
  /** Runs `body` for each round and target, with that target's sockets open. */
  const eachTurn = async (body) => {
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        if (shape.perRound) await open(name)
        await body(name, round)
        if (shape.perRound) await close(name)
      }
    }
  }

  const fan = Object.fromEntries(names.map(n => [n, []]))
  await eachTurn(async (name) => {
    const previous = median(fan[name].map(r => r.best?.rate))
    fan[name].push(previous === null
      ? await steps.ramp(name, fleets[name], members, shape.startRate, 1.6, stepMs)
      : await steps.ramp(name, fleets[name], members, Math.round(previous * 0.6), 1.25, stepMs))
  })

  // Latency at half of each target's own sustained rate, and at one rate every target sustains.
  // CPU per delivery depends on the rate (more messages per socket write as it rises), so it is
  // also compared at a high rate that both ws targets sustain.
  const ownHalf = Object.fromEntries(names.map(n => [n, Math.round((median(fan[n].map(r => r.best?.rate)) ?? 200) / 2)]))
  const commonRate = Math.min(...Object.values(ownHalf))
  const wsTargets = names.filter(n => TARGETS[n].protocol === 'chat')
  const highRate = wsTargets.length > 0 ? Math.min(...wsTargets.map(n => ownHalf[n])) : null
  const latency = Object.fromEntries(names.map(n => [n, { ownHalfRate: ownHalf[n], own: [], common: [], high: [] }]))
  await eachTurn(async (name) => {
    const measured = new Map()
    const at = async (rate, what) => {
      if (!measured.has(rate)) {
        const s = await steps.measuredStep(name, fleets[name], members, rate, latencyMs)
        log(steps.describe(name, s), `(${what})`)
        measured.set(rate, s)
      }
      return measured.get(rate)
    }
    latency[name].common.push(await at(commonRate, 'common rate'))
    latency[name].own.push(await at(ownHalf[name], 'half of own peak'))
    if (highRate !== null && highRate <= ownHalf[name]) latency[name].high.push(await at(highRate, 'high common rate'))
  })
  for (const name of names) {
    if (!shape.perRound) await close(name)
    await stopInstances(fleets[name])
  }
  return { rooms, members, fanout: fan, latency: { commonRate, highRate, targets: latency } }
}
