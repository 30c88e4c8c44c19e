/**
 * The charts of a run, one or two per scenario, drawn from its JSON (so an old run's charts can be
 * drawn again with bench/charts.mjs):
 * - fan-out shapes, `<base>-<scenario>-load.svg`: every step of every round, its p99 against the
 *   offered deliveries/s, a filled point where the step passed (all delivered, p99 under the
 *   bound) and a ring where it failed; where a target's curve leaves the bound is its peak, which
 *   the legend gives (median of the rounds); `-latency.svg`: p50 / p90 / p99 / max at the common
 *   rate (the same load for every target);
 * - idle: RSS per socket; churn: connections per second per instance; soak: heap after GC by minute.
 */
import { writeFile } from 'node:fs/promises'
import { PALETTE, plot, short } from './svg.mjs'
import { TARGETS } from './targets.mjs'

const labelOf = (name) => TARGETS[name]?.label ?? name

export function loadChart (title, scenario, names, summary, { maxP99Ms, rounds }) {
  const steps = names.flatMap(n => scenario.fanout[n].flatMap(r => r.steps))
  // Failed steps can sit far above the bound; the chart is about where each target crosses it.
  const yCap = maxP99Ms * 2.5
  const p99 = (s) => Math.min(s.latencyMs.p99 ?? yCap, yCap)
  const p = plot({
    title: `${title}: p99 as the offered load steps up`,
    xLabel: 'offered deliveries/s',
    yLabel: 'p99 latency, ms',
    xMax: Math.max(...steps.map(s => s.offeredDeliveriesPerSec)),
    yMax: Math.max(...steps.map(p99))
  })
  p.line([[0, maxP99Ms], [p.xTop, maxP99Ms]], '#999', '4 4')
  for (const [i, name] of names.entries()) {
    const color = PALETTE[i % PALETTE.length]
    for (const round of scenario.fanout[name]) {
      // A round retries a failed rate and then steps back between: one curve through its steps by rate.
      const byRate = [...round.steps].sort((a, b) => a.offeredDeliveriesPerSec - b.offeredDeliveriesPerSec)
      p.line(byRate.map(s => [s.offeredDeliveriesPerSec, p99(s)]), color)
      for (const s of round.steps) {
        p.point(s.offeredDeliveriesPerSec, p99(s), color, s.pass,
          `${labelOf(name)}: ${short(s.deliveredPerSec)}/s delivered, p99 ${s.latencyMs.p99} ms${s.pass ? '' : ' (failed)'}`)
      }
    }
    p.legend(`${labelOf(name)}: ${short(summary[name].maxDeliveriesPerSec ?? 0)}/s`, color)
  }
  p.note('peak: highest passing step,')
  p.note(`median of ${rounds} round(s)`)
  p.note('filled: passed; ring: failed')
  p.note(`dashed: the ${maxP99Ms} ms p99 bound`)
  return p.toString()
}

export function latencyChart (title, scenario, names, summary, { rounds }) {
  const percentiles = ['p50', 'p90', 'p99', 'max']
  const value = (name, k) => summary[name].common[k] ?? 0
  const p = plot({
    title: `${title}: latency at ${short(scenario.latency.commonRate * scenario.members)} deliveries/s`,
    xLabel: 'target (all at the common rate)',
    yLabel: 'ms',
    xMax: names.length,
    yMax: Math.max(...names.flatMap(n => percentiles.map(k => value(n, k)))),
    xTickLabels: names.map(labelOf)
  })
  const shades = ['#9ecae1', '#4292c6', '#08519c', '#08306b']
  const width = 0.8 / percentiles.length
  for (const [i, name] of names.entries()) {
    for (const [j, k] of percentiles.entries()) {
      const from = i + 0.1 + j * width
      p.bar(from, from + width * 0.9, value(name, k), shades[j], `${labelOf(name)} ${k}: ${value(name, k)} ms`)
    }
  }
  for (const [j, k] of percentiles.entries()) p.legend(k, shades[j], 'box')
  p.note(`medians of ${rounds} round(s)`)
  return p.toString()
}

/** One bar per target of `pick(summary[target])`. */
export function barChart (title, yLabel, names, summary, pick, note) {
  const p = plot({
    title,
    xLabel: 'target',
    yLabel,
    xMax: names.length,
    yMax: Math.max(...names.map(n => pick(summary[n]) ?? 0)),
    xTickLabels: names.map(labelOf)
  })
  for (const [i, name] of names.entries()) {
    const v = pick(summary[name]) ?? 0
    p.bar(i + 0.25, i + 0.75, v, PALETTE[i % PALETTE.length], `${labelOf(name)}: ${short(v)}`)
  }
  if (note) p.note(note)
  return p.toString()
}

/** Heap after GC of each instance, minute by minute. */
export function soakChart (soak) {
  const p = plot({
    title: `Soak: ${soak.rate} connections/s for ${soak.minutes} min, heap after GC`,
    xLabel: 'minute',
    yLabel: 'MiB',
    xMax: soak.minutes,
    yMax: Math.max(...soak.samples.flatMap(s => s.heapBytes)) / 1048576
  })
  for (let i = 0; i < soak.samples[0].heapBytes.length; i++) {
    const color = PALETTE[i % PALETTE.length]
    p.line(soak.samples.map(s => [s.minute, s.heapBytes[i] / 1048576]), color)
    for (const s of soak.samples) p.point(s.minute, s.heapBytes[i] / 1048576, color)
    p.legend(`instance ${i + 1}`, color)
  }
  p.note('goal: the end within 5 %')
  p.note('of minute one')
  return p.toString()
}

/** Writes every chart of the run beside `base`; returns their paths. */
export async function writeCharts (results, summary, scenarios, base) {
  const names = results.params.targets
  const params = results.params
  const files = []
  const write = async (suffix, svg) => {
    files.push(`${base}-${suffix}.svg`)
    await writeFile(files.at(-1), svg)
  }
  for (const [key, scenario] of Object.entries(scenarios)) {
    const title = key === 'fanout' ? `${scenario.rooms} rooms x ${scenario.members}` : `${scenario.rooms} rooms x ${scenario.members + 1}`
    if (scenario.fanout !== undefined) {
      await write(`${key}-load`, loadChart(title, scenario, names, summary[key], params))
      await write(`${key}-latency`, latencyChart(title, scenario, names, summary[key], params))
    } else if (key === 'idle') {
      await write('idle', barChart(`Idle: RSS per socket, ${scenario.sockets} sockets`, 'KiB per socket', names, summary.idle, s => s.kbPerConn))
    } else if (key === 'churn') {
      await write('churn', barChart('Churn: connections per second per instance', 'connections/s', names, summary.churn, s => s.perInstancePerSec,
        `${scenario.concurrency} at a time`))
    } else if (key === 'soak') {
      await write('soak', soakChart(scenario))
    }
  }
  return files
}
