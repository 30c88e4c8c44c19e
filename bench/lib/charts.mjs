/**
 * The charts of a run, drawn from its JSON (so an old run's charts can be drawn again):
 * - throughput: every step of every round, its p99 against the offered deliveries/s, a filled
 *   point where the step passed (all delivered, p99 under the bound) and a ring where it failed;
 *   where a target's curve crosses the bound is its peak, which the legend gives (median of rounds);
 * - latency: p50 / p90 / p99 / max at the common rate (the same load for every target), medians.
 */
import { writeFile } from 'node:fs/promises'
import { PALETTE, plot, short } from './svg.mjs'
import { TARGETS } from './targets.mjs'

const labelOf = (name) => TARGETS[name]?.label ?? name

export function throughputChart (results, summary) {
  const names = results.params.targets
  const { maxP99Ms } = results.params
  const steps = names.flatMap(n => results.fanout[n].flatMap(r => r.steps))
  // Failed steps can sit far above the bound; the chart is about where each target crosses it.
  const yCap = maxP99Ms * 2.5
  const p99 = (s) => Math.min(s.latencyMs.p99, yCap)
  const p = plot({
    title: `Fan-out, ${results.params.rooms} rooms x ${results.params.members}: p99 as the offered load steps up`,
    xLabel: 'offered deliveries/s',
    yLabel: 'p99 latency, ms',
    xMax: Math.max(...steps.map(s => s.offeredDeliveriesPerSec)),
    yMax: Math.max(...steps.map(p99))
  })
  p.line([[0, maxP99Ms], [p.xTop, maxP99Ms]], '#999', '4 4')
  for (const [i, name] of names.entries()) {
    const color = PALETTE[i % PALETTE.length]
    for (const round of results.fanout[name]) {
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
  p.note(`median of ${results.params.rounds} round(s)`)
  p.note('filled: passed; ring: failed')
  p.note(`dashed: the ${maxP99Ms} ms p99 bound`)
  return p.toString()
}

export function latencyChart (results, summary) {
  const names = results.params.targets
  const percentiles = ['p50', 'p90', 'p99', 'max']
  const value = (name, k) => summary[name].common[k] ?? 0
  const yMax = Math.max(...names.flatMap(n => percentiles.map(k => value(n, k))))
  const rate = results.latency.commonRate
  const p = plot({
    title: `Latency at ${short(rate * results.params.members)} deliveries/s (common rate)`,
    xLabel: 'target',
    yLabel: 'ms',
    xMax: names.length,
    yMax,
    xTickLabels: names.map(labelOf)
  })
  const shades = ['#9ecae1', '#4292c6', '#08519c', '#08306b']
  for (const [i, name] of names.entries()) {
    const width = 0.8 / percentiles.length
    for (const [j, k] of percentiles.entries()) {
      const from = i + 0.1 + j * width
      p.bar(from, from + width * 0.9, value(name, k), shades[j], `${labelOf(name)} ${k}: ${value(name, k)} ms`)
    }
  }
  for (const [j, k] of percentiles.entries()) p.legend(k, shades[j], 'box')
  p.note(`medians of ${results.params.rounds} round(s)`)
  return p.toString()
}

/** Writes `<base>-throughput.svg` and `<base>-latency.svg`; returns their paths. */
export async function writeCharts (results, summary, base) {
  const files = [[`${base}-throughput.svg`, throughputChart], [`${base}-latency.svg`, latencyChart]]
  for (const [file, draw] of files) await writeFile(file, draw(results, summary))
  return files.map(([file]) => file)
}
