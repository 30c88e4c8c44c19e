/**
 * The `compression` scenario (issue 22): one room of `listeners` sockets over two instances, fed
 * chat-like JSON messages of 1 to 4 KiB at a fixed rate, for chat-api and Socket.IO, each with and
 * without permessage-deflate. Per delivery it reports the bytes the clients read on the wire (TCP
 * bytes, headers included) and the CPU of the server processes; rounds are interleaved.
 *
 * The clients are `ws` and socket.io-client in the harness process (the bare load generator speaks
 * no deflate); only the servers' CPU is counted, read from /proc around each step.
 *
 *   npm run bench -- --scenarios compression --rounds 3
 */
import { setTimeout as sleep } from 'node:timers/promises'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { median } from '../lib/stats.mjs'
import { cpuMs } from '../lib/proc.mjs'
import { startInstances, stopInstances } from '../lib/servers.mjs'

/** Each variant: the target to start and whether its clients offer permessage-deflate. */
export const COMPRESSION_VARIANTS = [
  { name: 'chat-api', target: 'chat-api', protocol: 'chat', deflate: false },
  { name: 'chat-api-deflate', target: 'chat-api-deflate', protocol: 'chat', deflate: true },
  { name: 'socketio', target: 'socketio', protocol: 'sio', deflate: false },
  { name: 'socketio-deflate', target: 'socketio-deflate', protocol: 'sio', deflate: true }
]

const WORDS = ('hey the release is out please review the pull request before lunch meeting moved to three ' +
  'thanks ok sure coffee deploy rollback staging prod on call incident resolved customer ticket ' +
  'dashboard latency spike looks fine now merged approved nit typo can you check the logs').split(' ')

/** `count` chat-like `data` objects whose JSON is 1 to 4 KiB long, from a fixed seed. */
export function chatMessages (count) {
  let state = 42
  const rand = () => { state = (state * 1103515245 + 12345) % 2147483648; return state / 2147483648 }
  return Array.from({ length: count }, (_, i) => {
    const target = 1024 + Math.floor(rand() * 3072)
    const data = { text: '', author: { id: `u${i % 37}`, name: `User ${i % 37}` }, mentions: [`u${(i * 7) % 37}`], thread: null, attachments: [] }
    while (JSON.stringify(data).length < target) data.text += WORDS[Math.floor(rand() * WORDS.length)] + ' '
    return data
  })
}

const MESSAGE_MARK = Buffer.from('"type":"message"')

/** A chat-api listener or publisher; `bytes()` is what its TCP socket read so far. */
async function chatClient (port, room, deflate, onMessage) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/chat-api/ws/${room}`, { perMessageDeflate: deflate })
  await new Promise((resolve, reject) => {
    ws.on('message', function welcome () { ws.off('message', welcome); resolve() })
    ws.once('error', reject)
  })
  ws.on('message', (data) => { if (data.indexOf(MESSAGE_MARK) !== -1) onMessage() })
  const tcp = ws._socket // kept: ws lets go of it on close, and its count stays readable
  return {
    bytes: () => tcp.bytesRead,
    publish: (data) => ws.send(JSON.stringify({ type: 'message', room, data })),
    close: () => ws.terminate()
  }
}

async function sioClient (port, room, deflate, onMessage) {
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    perMessageDeflate: deflate ? { threshold: 1024 } : false
  })
  await new Promise((resolve, reject) => { socket.once('connect', resolve); socket.once('connect_error', reject) })
  await socket.timeout(15000).emitWithAck('join', room)
  socket.on('message', onMessage)
  const tcp = socket.io.engine.transport.ws._socket // engine.io-client's `ws` socket, kept as above
  return {
    bytes: () => tcp.bytesRead,
    publish: (data) => socket.emit('message', room, data),
    close: () => socket.disconnect()
  }
}

/** `run`: as for the other scenarios; `opts`: { listeners, rate, stepMs }. */
export async function compressionScenario (run, { listeners = 50, rate = 20, stepMs = 4000 } = {}) {
  const { rounds, redisUrl, runId, log } = run
  const messages = chatMessages(200)
  const payloadBytes = median(messages.map(m => JSON.stringify(m).length))
  const setups = []
  for (const variant of COMPRESSION_VARIANTS) {
    const instances = await startInstances(variant.target, 2, { redisUrl, prefix: `${runId}-compression-${variant.name}` })
    const open = variant.protocol === 'chat' ? chatClient : sioClient
    const counter = { delivered: 0 }
    const count = () => { counter.delivered++ }
    const room = 'compression'
    const clients = []
    for (let i = 0; i < listeners; i++) clients.push(await open(instances[i % 2].port, room, variant.deflate, count))
    // The publisher sends plain and is not counted: its own copies come back to it.
    const publisher = await open(instances[0].port, room, false, () => {})
    setups.push({ variant, instances, clients, publisher, counter })
    log(`compression: ${variant.name} ready, ${listeners} listeners`)
  }

  const steps = Object.fromEntries(COMPRESSION_VARIANTS.map(v => [v.name, []]))
  const measure = async ({ variant, instances, clients, publisher, counter }, warmUp) => {
    const total = Math.round(rate * stepMs / 1000)
    const expected = total * clients.length
    const sum = (xs) => xs.reduce((a, b) => a + b, 0)
    counter.delivered = 0
    const bytesBefore = sum(clients.map(c => c.bytes()))
    const cpuBefore = sum(instances.map(i => cpuMs(i.pid)))
    const t0 = performance.now()
    for (let sent = 0; sent < total;) {
      const due = Math.min(total, Math.floor(rate * (performance.now() - t0) / 1000))
      for (; sent < due; sent++) publisher.publish(messages[sent % messages.length])
      await sleep(5)
    }
    // The clients inflate on the thread pool of this (busy) process: wait while deliveries come.
    let seen = -1
    let still = 0
    while (counter.delivered < expected && still < 300) {
      still = counter.delivered === seen ? still + 1 : 0
      seen = counter.delivered
      await sleep(10)
    }
    const delivered = counter.delivered
    const s = {
      delivered,
      expected,
      bytesPerDelivery: (sum(clients.map(c => c.bytes())) - bytesBefore) / delivered,
      cpuUsPerDelivery: (sum(instances.map(i => cpuMs(i.pid))) - cpuBefore) * 1000 / delivered
    }
    if (!warmUp) {
      steps[variant.name].push(s)
      log(`compression: ${variant.name.padEnd(16)} ${delivered}/${expected} delivered, ${s.bytesPerDelivery.toFixed(0)} B/delivery, ${s.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery`)
    }
  }
  try {
    for (const setup of setups) await measure(setup, true) // JIT warm-up, not counted
    for (let round = 0; round < rounds; round++) {
      for (const setup of setups) await measure(setup, false)
    }
  } finally {
    for (const { instances, clients, publisher } of setups) {
      for (const c of [...clients, publisher]) c.close()
      await stopInstances(instances)
    }
  }
  const summary = Object.fromEntries(COMPRESSION_VARIANTS.map(({ name }) => [name, {
    bytesPerDelivery: median(steps[name].map(s => s.bytesPerDelivery)),
    cpuUsPerDelivery: median(steps[name].map(s => s.cpuUsPerDelivery)),
    deliveredShare: median(steps[name].map(s => s.delivered / s.expected))
  }]))
  return { listeners, rate, stepMs, payloadBytes, steps, summary }
}

/** The scenario's markdown table: ratios to each server's own uncompressed figures. */
export function compressionLines (scenario) {
  const { summary: s } = scenario
  const fmt = (x, digits = 0) => x === null || x === undefined ? '-' : x.toFixed(digits)
  const ratio = (a, b) => (a == null || b == null ? '-' : `${(a / b).toFixed(2)}×`)
  const row = (name, base) => `| ${name} | ${fmt(s[name].bytesPerDelivery)} | ${ratio(s[name].bytesPerDelivery, s[base].bytesPerDelivery)} | ` +
    `${fmt(s[name].cpuUsPerDelivery, 2)} | ${ratio(s[name].cpuUsPerDelivery, s[base].cpuUsPerDelivery)} | ${fmt(100 * s[name].deliveredShare, 1)}% |`
  return [
    `One room of ${scenario.listeners} listeners over two instances, ${scenario.rate} messages/s of chat-like JSON ` +
      `(1 to 4 KiB, median ${scenario.payloadBytes} B of data), ${scenario.stepMs / 1000} s steps. Bytes are what the ` +
      'clients read from TCP (frame headers included); CPU is the two server processes\'. Ratios are to the same ' +
      'server without compression. Goals (issue 22): bytes ≤ 0.4×, CPU ≤ 1.3×, ahead of Socket.IO with its deflate on.',
    '',
    '| target | bytes / delivery | vs plain | server CPU µs / delivery | vs plain | delivered |',
    '|---|---|---|---|---|---|',
    row('chat-api', 'chat-api'),
    row('chat-api-deflate', 'chat-api'),
    row('socketio', 'socketio'),
    row('socketio-deflate', 'socketio'),
    '',
    `chat-api with compression against Socket.IO with its deflate: ${ratio(s['chat-api-deflate'].bytesPerDelivery, s['socketio-deflate'].bytesPerDelivery)} ` +
      `the bytes, ${ratio(s['chat-api-deflate'].cpuUsPerDelivery, s['socketio-deflate'].cpuUsPerDelivery)} the CPU per delivery.`
  ]
}
