/**
 * The churn scenario: connections that come and go continuously while messages flow, to show what
 * presence costs where it has a cost (joins and leaves) and that messages carry none.
 *
 * Two instances of each target share the run's Redis. On each instance, ROOMS x LISTENERS sockets
 * stay in the rooms and receive; CHURNERS loops per instance each open a socket, join two rooms,
 * send one message to the first (waiting for its ack), and close, again and again (closed loop:
 * the rate is what the servers sustain). Reported per target: joins per second per instance,
 * server and Redis CPU per cycle, and what the listeners received (messages; member events when
 * presence is on). Medians of the rounds, interleaved like the fan-out.
 */
import WebSocket from 'ws'
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuMs } from './proc.mjs'
import { redisCpuMs } from './redis.mjs'
import { startInstances, stopInstances } from './servers.mjs'
import { median } from './stats.mjs'
import { TARGETS } from './targets.mjs'

const ROOMS = 10
const LISTENERS = 10
const CHURNERS = 16
const PATH = '/api/chat-api/ws'

function open (port) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${PATH}`)
    ws.once('error', reject)
    ws.once('message', () => resolve(ws)) // welcome
  })
}

/** Sends a frame with an id and resolves with the reply carrying it. */
function request (ws, frame) {
  const id = Math.random().toString(36).slice(2)
  return new Promise((resolve, reject) => {
    const onMessage = (data) => {
      const reply = JSON.parse(data)
      if (reply.id !== id) return
      ws.off('message', onMessage)
      if (reply.type === 'error') reject(new Error(`${reply.code}: ${reply.message}`))
      else resolve(reply)
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ ...frame, id }))
  })
}

async function listeners (instances, counts) {
  const sockets = []
  for (const { port } of instances) {
    for (let r = 0; r < ROOMS; r++) {
      for (let l = 0; l < LISTENERS; l++) {
        const ws = await open(port)
        await request(ws, { type: 'join', room: `churn-${r}` })
        ws.on('message', (data) => {
          const type = JSON.parse(data).type
          if (type === 'message') counts.messages++
          else if (type === 'member_joined' || type === 'member_left') counts.events++
        })
        sockets.push(ws)
      }
    }
  }
  return sockets
}

/** One churner: cycles until `until`; resolves with the number of cycles completed. */
async function churner (port, seed, until) {
  let cycles = 0
  for (let i = seed; performance.now() < until; i++) {
    const ws = await open(port)
    const first = `churn-${i % ROOMS}`
    await Promise.all([request(ws, { type: 'join', room: first }), request(ws, { type: 'join', room: `churn-${(i + 1) % ROOMS}` })])
    await request(ws, { type: 'message', room: first, data: { text: 'x'.repeat(100) } })
    const closed = new Promise(resolve => ws.once('close', resolve))
    ws.close()
    await closed
    cycles++
  }
  return cycles
}

async function measure (name, instances, redisUrl, durationMs) {
  const counts = { messages: 0, events: 0 }
  const held = await listeners(instances, counts)
  await sleep(500)
  counts.messages = 0
  counts.events = 0
  const pids = instances.map(i => i.pid)
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0)
  const redisBefore = await redisCpuMs(redisUrl)
  const started = performance.now()
  const until = started + durationMs
  const loops = instances.flatMap(({ port }, n) => Array.from({ length: CHURNERS }, (_, c) => churner(port, n * CHURNERS + c, until)))
  const cycles = (await Promise.all(loops)).reduce((a, b) => a + b, 0)
  const seconds = (performance.now() - started) / 1000
  const cpu = pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - cpuBefore
  const redisCpu = (await redisCpuMs(redisUrl)) - redisBefore
  for (const ws of held) ws.terminate()
  return {
    name,
    joinsPerSecPerInstance: (2 * cycles) / seconds / instances.length,
    cyclesPerSec: cycles / seconds,
    serverCpuMsPerCycle: cpu / cycles,
    redisCpuMsPerCycle: redisCpu / cycles,
    messagesPerSec: counts.messages / seconds,
    memberEventsPerSec: counts.events / seconds
  }
}

/** Runs the scenario for each target, `rounds` times interleaved; returns per-target medians and the raw rounds. */
export async function churn ({ names, rounds, durationMs, redisUrl, runId, log }) {
  const started = {}
  for (const name of names) started[name] = await startInstances(name, 2, { redisUrl, prefix: `${runId}-churn-${name}` })
  const raw = Object.fromEntries(names.map(name => [name, []]))
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const name of names) {
        const result = await measure(name, started[name], redisUrl, durationMs)
        log(`churn ${name} round ${round}: ${result.joinsPerSecPerInstance.toFixed(0)} joins/s per instance`)
        raw[name].push(result)
      }
    }
  } finally {
    for (const name of names) await stopInstances(started[name])
  }
  const keys = ['joinsPerSecPerInstance', 'cyclesPerSec', 'serverCpuMsPerCycle', 'redisCpuMsPerCycle', 'messagesPerSec', 'memberEventsPerSec']
  const medians = Object.fromEntries(names.map(name => [name, Object.fromEntries(keys.map(k => [k, median(raw[name].map(r => r[k]))]))]))
  return { params: { rooms: ROOMS, listenersPerRoomPerInstance: LISTENERS, churnersPerInstance: CHURNERS, durationMs, rounds }, medians, raw }
}

export function churnMarkdown (result) {
  const names = Object.keys(result.medians)
  const p = result.params
  const rows = [
    ['joins/s per instance', 'joinsPerSecPerInstance', 0],
    ['churn cycles/s (2 joins, 1 message, close)', 'cyclesPerSec', 0],
    ['server CPU ms per cycle (both instances)', 'serverCpuMsPerCycle', 2],
    ['Redis CPU ms per cycle', 'redisCpuMsPerCycle', 3],
    ['messages received by listeners /s', 'messagesPerSec', 0],
    ['member events received by listeners /s', 'memberEventsPerSec', 0]
  ]
  const head = ['', ...names.map(n => TARGETS[n].label)]
  return [
    '### Churn',
    '',
    `Two instances; on each, ${p.rooms} rooms x ${p.listenersPerRoomPerInstance} listeners stay, and ${p.churnersPerInstance} ` +
    'loops open a socket, join two rooms, send one 100-byte message to the first (ack awaited) and close, as fast as the ' +
    `servers answer, for ${p.durationMs / 1000} s. Medians of ${p.rounds} interleaved rounds.`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map(([label, key, digits]) => `| ${[label, ...names.map(n => result.medians[n][key]?.toFixed(digits) ?? '?')].join(' | ')} |`),
    ''
  ].join('\n')
}
