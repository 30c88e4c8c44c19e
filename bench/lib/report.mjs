/**
 * Turns a run's measurements into the markdown table (medians over the rounds, ratios to the
 * floor and chat-api's ratio to Socket.IO, with the goals) and writes both files.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { churnMarkdown } from './churn.mjs'
import { ROOT, TARGETS } from './targets.mjs'
import { fmt, fmtRatio, median, ratio } from './stats.mjs'

/** Per-target medians over the rounds of everything the table shows. */
export function summarise (results) {
  const out = {}
  for (const name of results.params.targets) {
    const rounds = results.fanout[name]
    const lat = results.latency.targets[name]
    const idle = results.idle?.[name] ?? []
    const med = (xs, f) => median(xs.map(f))
    const loss = (s) => (s.expected - s.delivered) / s.expected
    out[name] = {
      maxDeliveriesPerSec: med(rounds, r => r.best?.deliveredPerSec),
      maxRate: med(rounds, r => r.best?.rate),
      cpuUsAtPeak: med(rounds, r => r.best?.cpuUsPerDelivery),
      serverCoresAtPeak: med(rounds, r => r.best?.serverCores),
      loadgenCoresAtPeak: med(rounds, r => r.best?.loadgenCores),
      loadgenCoresAtFail: med(rounds, r => r.failed?.loadgenCores),
      serverCoresAtFail: med(rounds, r => r.failed?.serverCores),
      cpuUsAtCommon: med(lat.common, s => s.cpuUsPerDelivery),
      cpuUsAtHigh: med(lat.high, s => s.cpuUsPerDelivery),
      redisUsAtCommon: med(lat.common, s => s.redisUsPerMessage),
      high: { p50: med(lat.high, s => s.latencyMs.p50), p99: med(lat.high, s => s.latencyMs.p99) },
      loadgenUsAtCommon: med(lat.common, s => s.loadgenUsPerDelivery),
      common: {
        p50: med(lat.common, s => s.latencyMs.p50),
        p90: med(lat.common, s => s.latencyMs.p90),
        p99: med(lat.common, s => s.latencyMs.p99),
        max: med(lat.common, s => s.latencyMs.max),
        loss: med(lat.common, loss)
      },
      ownHalfRate: lat.ownHalfRate,
      own: {
        p50: med(lat.own, s => s.latencyMs.p50),
        p99: med(lat.own, s => s.latencyMs.p99),
        max: med(lat.own, s => s.latencyMs.max),
        loss: med(lat.own, loss)
      },
      idleKbPerConn: med(idle, r => r.perConnKb),
      idleConnectS: med(idle, r => r.connectMs / 1000)
    }
  }
  return out
}

/** The table's rows; `goal` and `ok` state the target for chat-api, `ratios: false` hides ratios. */
function rows ({ commonRate, highRate }, members) {
  const at = (rate) => `${rate} msg/s = ${fmt(rate * members)} deliveries/s`
  const pct = (v) => v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`
  return [
    { label: 'highest sustained deliveries/s', pick: s => s.maxDeliveriesPerSec, goal: '>= 0.8x floor', ok: (c, f) => c >= 0.8 * f },
    { label: `server CPU µs per delivery, common rate (${at(commonRate)})`, pick: s => s.cpuUsAtCommon, goal: '<= 1.2x floor', ok: (c, f) => c <= 1.2 * f },
    { label: `server CPU µs per delivery, high rate (${at(highRate)})`, pick: s => s.cpuUsAtHigh, goal: '<= 1.2x floor', ok: (c, f) => c <= 1.2 * f },
    { label: 'server CPU µs per delivery, at own peak', pick: s => s.cpuUsAtPeak },
    { label: 'Redis CPU µs per message, common rate (INFO cpu)', pick: s => s.redisUsAtCommon },
    { label: 'p50 latency ms, common rate', pick: s => s.common.p50 },
    { label: 'p90 latency ms, common rate', pick: s => s.common.p90 },
    {
      label: 'p99 latency ms, common rate',
      pick: s => s.common.p99,
      goal: '<= 1.5x floor, <= 0.5x Socket.IO',
      ok: (c, f, io) => c <= 1.5 * f && (io === null || c <= 0.5 * io)
    },
    { label: 'max latency ms, common rate', pick: s => s.common.max },
    { label: 'loss, common rate', pick: s => s.common.loss, show: pct, ratios: false },
    { label: 'p50 / p99 ms, high rate', pick: s => s.high.p99, show: (v, s) => v === null ? 'n/a' : `${fmt(s.high.p50)} / ${fmt(v)}` },
    { label: 'p50 / p99 ms, half of own peak', pick: s => s.own.p99, show: (v, s) => `${fmt(s.own.p50)} / ${fmt(v)}` },
    { label: 'idle memory KiB per connection', pick: s => s.idleKbPerConn, goal: '<= 1.3x floor', ok: (c, f) => c <= 1.3 * f },
    { label: 'time to connect the idle sockets, s', pick: s => s.idleConnectS },
    { label: 'load generator cores at own peak', pick: s => s.loadgenCoresAtPeak, show: v => fmt(v, 2), ratios: false },
    {
      label: 'servers / load generator cores at the first failing rate',
      pick: s => s.serverCoresAtFail,
      show: (v, s) => `${fmt(v, 2)} / ${fmt(s.loadgenCoresAtFail, 2)}`,
      ratios: false
    }
  ]
}

/** Facts a reader needs to trust the table: which limit each target hit, and how busy the machine was. */
function notes (results, summary) {
  const out = []
  for (const name of results.params.targets) {
    const lg = Math.max(summary[name].loadgenCoresAtFail ?? 0, summary[name].loadgenCoresAtPeak ?? 0)
    if (lg >= 0.85) {
      out.push(`${TARGETS[name].label}: the load generator used up to ${fmt(lg, 2)} cores around its peak, so it is ` +
        'part of the limit there; compare CPU per delivery.')
    }
  }
  const others = results.params.targets.flatMap(n => results.fanout[n].flatMap(r => r.steps.map(s => s.otherCores)))
  const busiest = Math.max(...others)
  if (busiest > 0.5) out.push(`Other processes used up to ${fmt(busiest, 2)} cores during some steps: the machine was not quiet.`)
  return out
}

export function markdown (results) {
  const summary = summarise(results)
  const names = results.params.targets
  const has = (n) => names.includes(n)
  const others = names.filter(n => n !== 'floor')
  const head = ['', ...names.map(n => TARGETS[n].label)]
  if (has('floor')) head.push(...others.map(n => `${n} / floor`))
  if (has('chat-api') && has('socketio')) head.push('chat-api / Socket.IO')
  if (has('chat-api') && has('floor')) head.push('goal for chat-api')
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const row of rows(results.latency, results.params.members)) {
    const { label, pick, show = v => fmt(v), ratios = true, goal, ok } = row
    const value = (n) => pick(summary[n])
    const cells = [label, ...names.map(n => show(value(n), summary[n]))]
    const ratioCell = (a, b) => ratios ? fmtRatio(ratio(a, b)) : ''
    if (has('floor')) cells.push(...others.map(n => ratioCell(value(n), value('floor'))))
    if (has('chat-api') && has('socketio')) cells.push(ratioCell(value('chat-api'), value('socketio')))
    if (has('chat-api') && has('floor')) {
      const [c, f, io] = [value('chat-api'), value('floor'), has('socketio') ? value('socketio') : null]
      cells.push(goal === undefined ? '' : `${goal} ${c === null || f === null ? '?' : ok(c, f, io) ? '✅' : '❌'}`)
    }
    lines.push(`| ${cells.join(' | ')} |`)
  }
  const m = results.machine
  const p = results.params
  return [
    `## chat-api benchmark, ${results.date.slice(0, 10)}`,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), Node ${m.node}, load average ${m.loadAverage} at the start; ` +
    `Redis: ${results.redis}. Command: \`${results.command}\` (${Math.round(results.durationS)} s).`,
    '',
    `Fan-out: ${p.rooms} rooms x ${p.members} listeners over two instances of each target, ${p.dataBytes}-byte messages ` +
    'sent by one more member of each room (its own copy is not counted); the offered rate steps up until fewer than ' +
    `${p.minDelivered * 100}% of the deliveries arrive or p99 passes ${p.maxP99Ms} ms (${p.stepMs / 1000} s steps, ` +
    'a failure confirmed by a second try). The common rate is half the slowest target\'s peak, the high rate half ' +
    'the slower ws target\'s peak. ' +
    `Socket.IO clients: ${p.sioClient === 'raw' ? 'bare Engine.IO frames (--sio-client raw)' : 'socket.io-client, websocket transport'}. ` +
    `Idle: ${p.idleSockets} sockets on one instance, RSS delta after GC. ` +
    `Medians of ${p.rounds} interleaved rounds; CPU is user + system of both server processes.`,
    '',
    ...lines,
    '',
    ...notes(results, summary).map(n => `- ${n}`),
    '',
    ...(results.churn ? [churnMarkdown(results.churn)] : [])
  ].join('\n')
}

export async function writeReport (results, out) {
  const dir = join(ROOT, 'bench', 'results')
  await mkdir(dir, { recursive: true })
  const base = out ?? join(dir, results.date.slice(0, 10))
  const text = markdown(results)
  const json = { ...results, summary: summarise(results) }
  await writeFile(`${base}.md`, text)
  await writeFile(`${base}.json`, JSON.stringify(json, null, 2) + '\n')
  return { markdown: text, files: [`${base}.md`, `${base}.json`] }
}
