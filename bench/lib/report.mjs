/**
 * Turns a run's measurements into markdown tables, one per scenario (medians over the rounds,
 * ratios to the floor and chat-api's ratio to Socket.IO, with the issues' goals), and writes them,
 * the JSON and the charts (charts.mjs).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ROOT, TARGETS } from './targets.mjs'
import { fmt, fmtRatio } from './stats.mjs'
import { writeCharts } from './charts.mjs'
import { churnRows, idleRows, summariseChurn, summariseIdle } from './report-rows.mjs'
import { fanoutRows, summariseFanout } from './report-fanout.mjs'
import { compressionLines } from '../scenarios/compression.mjs'

/**
 * Runs before the scenarios were split kept the 10 x 100 fan-out at the top of the JSON; seen
 * through this, old and new files read the same.
 */
export function scenariosOf (results) {
  if (results.scenarios !== undefined) return results.scenarios
  const { rooms, members } = results.params
  const out = { fanout: { rooms, members, fanout: results.fanout, latency: results.latency } }
  if (results.idle) out.idle = { sockets: results.params.idleSockets, targets: results.idle }
  return out
}

/** Per scenario, per target: the medians every table and chart shows. */
export function summarise (results) {
  const names = results.params.targets
  const out = {}
  for (const [key, scenario] of Object.entries(scenariosOf(results))) {
    if (key === 'idle') out[key] = summariseIdle(scenario, names)
    else if (key === 'churn') out[key] = summariseChurn(scenario, names)
    else if (scenario.fanout !== undefined) out[key] = summariseFanout(scenario, names)
  }
  return out
}

/** A markdown table of `rows` over the targets, with ratio and goal columns. */
function table (names, summary, rows) {
  const has = (n) => names.includes(n)
  const others = names.filter(n => n !== 'floor')
  const head = ['', ...names.map(n => TARGETS[n].label)]
  if (has('floor')) head.push(...others.map(n => `${n} / floor`))
  if (has('chat-api') && has('socketio')) head.push('chat-api / Socket.IO')
  if (has('chat-api') && has('floor')) head.push('goal for chat-api')
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const { label, pick, show = v => fmt(v), ratios = true, goal, ok, needsFloor = true } of rows) {
    const value = (n) => pick(summary[n])
    const cells = [label, ...names.map(n => show(value(n), summary[n]))]
    const ratioCell = (a, b) => ratios && a !== null && b !== null && b !== 0 ? fmtRatio(a / b) : ''
    if (has('floor')) cells.push(...others.map(n => ratioCell(value(n), value('floor'))))
    if (has('chat-api') && has('socketio')) cells.push(ratioCell(value('chat-api'), value('socketio')))
    if (has('chat-api') && has('floor')) {
      const [c, f, io] = [value('chat-api'), value('floor'), has('socketio') ? value('socketio') : null]
      const unknown = c === null || (needsFloor && f === null)
      cells.push(goal === undefined ? '' : `${goal} ${unknown ? '?' : ok(c, f, io) ? '✅' : '❌'}`)
    }
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines
}

/** Facts a reader needs to trust a fan-out table: which limit each target hit, and how busy the machine was. */
function fanoutNotes (scenario, names, summary) {
  const out = []
  for (const name of names) {
    const lg = Math.max(summary[name].loadgenCoresAtFail ?? 0, summary[name].loadgenCoresAtPeak ?? 0)
    if (lg >= 0.85) {
      out.push(`${TARGETS[name].label}: the load generator used up to ${fmt(lg, 2)} cores around its peak, so it is ` +
        'part of the limit there; compare CPU per delivery.')
    }
  }
  const others = names.flatMap(n => scenario.fanout[n].flatMap(r => r.steps.map(s => s.otherCores)))
  const busiest = Math.max(...others)
  if (busiest > 0.5) out.push(`Other processes used up to ${fmt(busiest, 2)} cores during some steps: the machine was not quiet.`)
  return out
}

const TITLES = {
  fanout: (s) => `Fan-out: ${s.rooms} rooms x ${s.members} listeners`,
  'small-rooms': (s) => `Small rooms: ${s.rooms} rooms x ${s.members + 1} members (2 on each instance)`,
  idle: (s) => `Idle: ${s.sockets} sockets on ${(s.instances ?? 1) === 1 ? 'one instance' : `${s.instances} instances`}` +
    `${(s.clients ?? 1) > 1 ? ` from ${s.clients} load-generator processes` : ''}, each in ${s.roomsPerSocket ?? 1}` +
    `${s.rooms ? ` of ${s.rooms} rooms` : ' room(s)'}`,
  soak: (s) => `Soak: churn at ${s.rate} connections/s (half its peak) for ${s.minutes} min, chat-api`,
  compression: (s) => `Compression: chat-like JSON of 1 to 4 KiB to ${s.listeners} listeners, with and without permessage-deflate`,
  churn: (s) => `Churn: connections that open, join 2 rooms, send one message and close, ${s.concurrency} at a time, while ${s.listeners} listeners receive`
}

/** The soak's verdict: heap after GC at the end against minute one, descriptors back at the start. */
function soakLines (soak) {
  const mib = (bytes) => (bytes / 1048576).toFixed(1)
  const first = soak.samples[0].heapBytes
  const last = soak.samples.at(-1).heapBytes
  return [
    '| instance | heap after GC, minute 1 / end (MiB) | growth (goal <= 5 %) | fds at start / end | left in /ws/stats |',
    '|---|---|---|---|---|',
    ...first.map((h, i) => `| ${i + 1} | ${mib(h)} / ${mib(last[i])} | ${(soak.heapGrowth[i] * 100).toFixed(1)} % ${soak.heapGrowth[i] <= 0.05 ? '✅' : '❌'} | ` +
      `${soak.startFds[i]} / ${soak.endFds[i]} ${soak.endFds[i] <= soak.startFds[i] ? '✅' : '❌'} | ` +
      `${soak.leftovers?.[i] ? `${soak.leftovers[i].connections}, ${soak.leftovers[i].rooms}` : 'n/a'} |`),
    '',
    `Failed connections over the soak: ${soak.samples.reduce((a, s) => a + s.failed, 0)}; not started for the in-flight bound: ${soak.samples.reduce((a, s) => a + s.skipped, 0)}.`
  ]
}

export function markdown (results) {
  const summary = summarise(results)
  const names = results.params.targets
  const m = results.machine
  const p = results.params
  const out = [
    `## chat-api benchmark, ${results.date.slice(0, 10)}`,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), Node ${m.node}, load average ${m.loadAverage} at the start; ` +
    `Redis: ${results.redis}. Command: \`${results.command}\` (${Math.round(results.durationS)} s). ` +
    `Medians of ${p.rounds} interleaved round(s); CPU is user + system of the server processes. ` +
    `Socket.IO clients: ${p.sioClient === 'raw' ? 'bare Engine.IO frames (--sio-client raw)' : 'socket.io-client, websocket transport'}.`,
    ...(results.notes ?? []).map(n => `- ${n}`),
    ''
  ]
  for (const [key, scenario] of Object.entries(scenariosOf(results))) {
    out.push(`### ${TITLES[key]?.(scenario) ?? key}`, '')
    if (scenario.fanout !== undefined) {
      out.push(`Offered rate stepped up until fewer than ${p.minDelivered * 100}% of deliveries arrive or p99 passes ` +
        `${p.maxP99Ms} ms (${p.stepMs / 1000} s steps, a failure confirmed by a second try); the common rate is half the ` +
        'slowest target\'s peak, the high rate half the slower ws target\'s.', '')
      out.push(...table(names, summary[key], fanoutRows(key, scenario.latency, scenario.members)), '')
      out.push(...fanoutNotes(scenario, names, summary[key]).map(n => `- ${n}`))
    } else if (key === 'idle') {
      out.push(...table(names, summary[key], idleRows(scenario)))
    } else if (key === 'churn') {
      out.push(...table(names, summary[key], churnRows()))
    } else if (key === 'soak') {
      out.push(...soakLines(scenario))
    } else if (key === 'compression') {
      out.push(...compressionLines(scenario))
    }
    out.push('')
  }
  return out.join('\n')
}

export async function writeReport (results, out) {
  const dir = join(ROOT, 'bench', 'results')
  await mkdir(dir, { recursive: true })
  const base = out ?? join(dir, results.date.slice(0, 10))
  const text = markdown(results)
  const json = { ...results, summary: summarise(results) }
  await writeFile(`${base}.md`, text)
  await writeFile(`${base}.json`, JSON.stringify(json, null, 2) + '\n')
  const charts = await writeCharts(results, json.summary, scenariosOf(results), base)
  return { markdown: text, files: [`${base}.md`, `${base}.json`, ...charts] }
}
