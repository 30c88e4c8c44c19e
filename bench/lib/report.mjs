/**
 * Turns a run's measurements into the markdown table (medians over the rounds, ratios to the
 * floor and chat-api's ratio to Socket.IO, with the goals) and writes both files.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
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

const ROWS = [
  ['highest sustained deliveries/s', s => s.maxDeliveriesPerSec, v => fmt(v), 'chat-api >= 0.8x floor', (c, f) => c >= 0.8 * f],
  ['server CPU µs per delivery, at the common rate', s => s.cpuUsAtCommon, v => fmt(v), 'chat-api <= 1.2x floor', (c, f) => c <= 1.2 * f],
  ['server CPU µs per delivery, at the high rate', s => s.cpuUsAtHigh, v => fmt(v), 'chat-api <= 1.2x floor', (c, f) => c <= 1.2 * f],
  ['server CPU µs per delivery, at own peak', s => s.cpuUsAtPeak, v => fmt(v)],
  ['p50 latency ms, common rate', s => s.common.p50, v => fmt(v)],
  ['p90 latency ms, common rate', s => s.common.p90, v => fmt(v)],
  ['p99 latency ms, common rate', s => s.common.p99, v => fmt(v), 'chat-api <= 1.5x floor and <= 0.5x Socket.IO',
    (c, f, io) => c <= 1.5 * f && (io === null || c <= 0.5 * io)],
  ['max latency ms, common rate', s => s.common.max, v => fmt(v)],
  ['loss at the common rate', s => s.common.loss, v => v === null ? 'n/a' : `${(v * 100).toFixed(2)}%`],
  ['p50 / p99 ms at the high rate', s => s.high.p99, (v, s) => v === null ? 'n/a' : `${fmt(s.high.p50)} / ${fmt(v)}`],
  ['p50 / p99 ms at half of own peak', s => s.own.p99, (v, s) => `${fmt(s.own.p50)} / ${fmt(v)}`],
  ['idle memory KiB per connection', s => s.idleKbPerConn, v => fmt(v), 'chat-api <= 1.3x floor', (c, f) => c <= 1.3 * f],
  ['time to connect the idle sockets, s', s => s.idleConnectS, v => fmt(v)],
  ['load generator cores at own peak', s => s.loadgenCoresAtPeak, v => fmt(v, 2)],
  ['servers / load generator cores at the first failing rate', s => s.serverCoresAtFail,
    (v, s) => `${fmt(v, 2)} / ${fmt(s.loadgenCoresAtFail, 2)}`]
]

export function markdown (results) {
  const summary = summarise(results)
  const names = results.params.targets
  const has = (n) => names.includes(n)
  const head = ['', ...names.map(n => TARGETS[n].label)]
  if (has('floor')) head.push(...names.filter(n => n !== 'floor').map(n => `${n} / floor`))
  if (has('chat-api') && has('socketio')) head.push('chat-api / Socket.IO')
  if (has('chat-api') && has('floor')) head.push('goal (chat-api)')
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`]
  for (const [label, pick, show, goal, ok] of ROWS) {
    const cells = [label, ...names.map(n => show(pick(summary[n]), summary[n]))]
    if (has('floor')) cells.push(...names.filter(n => n !== 'floor').map(n => fmtRatio(ratio(pick(summary[n]), pick(summary.floor)))))
    if (has('chat-api') && has('socketio')) cells.push(fmtRatio(ratio(pick(summary['chat-api']), pick(summary.socketio))))
    if (has('chat-api') && has('floor')) {
      const [c, f] = [pick(summary['chat-api']), pick(summary.floor)]
      const io = has('socketio') ? pick(summary.socketio) : null
      cells.push(goal === undefined ? '' : `${goal} ${c === null || f === null ? '?' : ok(c, f, io) ? '✅' : '❌'}`)
    }
    lines.push(`| ${cells.join(' | ')} |`)
  }
  const m = results.machine
  const p = results.params
  return [
    `## chat-api benchmark, ${results.date.slice(0, 10)}`,
    '',
    `Machine: ${m.nproc} cores (${m.cpuModel}), Node ${m.node}; Redis: ${results.redis}. ` +
    `Command: \`${results.command}\` (${Math.round(results.durationS)} s).`,
    '',
    `Fan-out: ${p.rooms} rooms x ${p.members} members over two instances of each target, ${p.dataBytes}-byte messages ` +
    `published by the first member of each room; the offered rate steps up until fewer than ${p.minDelivered * 100}% ` +
    `of the deliveries arrive or p99 passes ${p.maxP99Ms} ms (${p.stepMs / 1000} s steps). ` +
    `Common rate (half of the slowest target's peak): ${results.latency.commonRate} messages/s ` +
    `(${fmt(results.latency.commonRate * p.members)} deliveries/s); high rate (half of the slower ws target's peak): ` +
    `${results.latency.highRate ?? 'n/a'} messages/s (${fmt((results.latency.highRate ?? 0) * p.members)} deliveries/s). ` +
    `Socket.IO clients: ${p.sioClient === 'raw' ? 'bare Engine.IO frames (--sio-client raw)' : 'socket.io-client, websocket transport'}. ` +
    `Idle: ${p.idleSockets} sockets on one instance, RSS delta after GC. ` +
    `Medians of ${p.rounds} interleaved rounds; CPU is user + system of both server processes.`,
    '',
    ...lines,
    ''
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
