/**
 * The load generator, in a process of its own, driven by the harness over IPC. Its main thread
 * holds the listeners of each target's fan-out topology (10 rooms x 100 listeners over the two
 * instances) and counts every delivery of the current step with its latency; a worker thread holds
 * the publishers (one more member per room) and sends at the offered rate. It also opens the idle
 * connections; the idle scenario starts more of these processes when one cannot hold them all.
 *
 * Requests: { id, cmd: 'setup' | 'step' | 'teardown' | 'idle-open' | 'idle-close' | 'idle-pings' | 'churn-*', ... };
 * each is answered { id, ok, result | error }.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { Histogram } from './lib/histogram.mjs'
import { PROTOCOLS, heartbeats, nowUs } from './lib/clients.mjs'
import { churnCommands } from './lib/churn.mjs'

const topologies = new Map()
let idleClients = []

const worker = new Worker(new URL('./lib/publisher.mjs', import.meta.url))
const pending = new Map()
let nextId = 0
worker.on('message', (msg) => {
  const waiter = pending.get(msg.id)
  pending.delete(msg.id)
  if (msg.ok) waiter.resolve(msg.result)
  else waiter.reject(new Error(`publisher: ${msg.error}`))
})
function publisher (cmd, args) {
  return new Promise((resolve, reject) => {
    const id = ++nextId
    pending.set(id, { resolve, reject })
    worker.postMessage({ id, cmd, ...args })
  })
}

/** The step being measured: deliveries stamped with another step are counted as stale. */
const current = { step: -1, delivered: 0, stale: 0, hist: new Histogram() }
function onDelivery (step, sentUs) {
  if (step !== current.step) {
    current.stale++
    return
  }
  current.delivered++
  current.hist.record(nowUs() - sentUs)
}

/**
 * Opens `count` sockets `concurrency` at a time; `spec(i)` gives [port, room, options] of the i-th
 * (options as in clients.mjs: a second room, a source address).
 */
async function openMany (protocol, count, concurrency, spec, onMessage) {
  const Client = PROTOCOLS[protocol]
  const clients = new Array(count)
  let next = 0
  async function work () {
    while (next < count) {
      const i = next++
      const [port, room, options] = spec(i)
      clients[i] = await Client.open(port, room, onMessage, options)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, work))
  return clients
}

async function setup ({ target, protocol, ports, rooms, members }) {
  const started = performance.now()
  // Listener j of room k sits on instance (j + k + 1) % 2 and the room's publisher on k % 2, so
  // every room is split evenly over the two (4 members: 2 on each) and every message crosses Redis.
  const clients = await openMany(protocol, rooms * members, 50, (i) => {
    const k = Math.floor(i / members)
    return [ports[(i % members + k + 1) % ports.length], `r${k}`]
  }, onDelivery)
  await publisher('setup', { target, protocol, ports, rooms })
  topologies.set(target, { clients, members })
  return { connectMs: performance.now() - started, sockets: clients.length + rooms }
}

/** One step: the worker publishes; here deliveries are counted, with up to `graceMs` for the last. */
async function step ({ target, rate, durationMs, graceMs, stepId }) {
  const { members } = topologies.get(target)
  current.step = stepId
  current.delivered = 0
  current.stale = 0
  current.hist = new Histogram()
  const { published, publishMs, maxLagMs } = await publisher('step', { target, rate, durationMs, stepId })
  const expected = published * members
  const waitStart = performance.now()
  while (current.delivered < expected && performance.now() - waitStart < graceMs) await sleep(5)
  const delivered = current.delivered
  current.step = -1
  return {
    published,
    expected,
    delivered,
    stale: current.stale,
    publishMs,
    drainMs: performance.now() - waitStart,
    maxLagMs,
    deliveredPerSec: delivered / (publishMs / 1000),
    latencyMs: current.hist.summary()
  }
}

async function teardown ({ target }) {
  const topology = topologies.get(target)
  topologies.delete(target)
  for (const client of topology?.clients ?? []) client.close()
  await publisher('teardown', { target })
  await sleep(200)
  return {}
}

/** Sockets per loopback source address when the harness names none: within one address's range of source ports. */
const SOCKETS_PER_ADDRESS = 20000
/**
 * Members per idle room: each socket joins 2 rooms, so `total` sockets share total / 10 rooms (1 000
 * at the default 10 000). Rooms grow with the count so that a join's member events cost the same
 * per socket at any size: with a fixed number of rooms they would grow with the square of it.
 */
const IDLE_MEMBERS_PER_ROOM = 20

/**
 * This process's share of an idle run: sockets `first` .. `first + count - 1` of `total`, socket g
 * on instance floor(g / (total / ports)) (contiguous blocks, so a room's members are spread over
 * every instance), in rooms g % R and one of the next 10, from `localAddress` (the harness gives
 * each client process its own; without one, 127.0.0.2, 127.0.0.3, ... 20 000 per address).
 * Answers with this process's wall-clock start and end, so the harness can take the first start
 * and the last end over all processes.
 */
/**
 * How long one idle socket may take to be welcomed and in both its rooms. The scenario measures how
 * long the whole storm takes to connect (100 000 sockets opening at once take minutes on 2 cores),
 * so a socket that waits long is part of that figure, not a failed run; only one that never gets in
 * is.
 */
const IDLE_OPEN_TIMEOUT_MS = 120_000

async function idleOpen ({ protocol, ports, total = 0, first = 0, count, concurrency, localAddress }) {
  const sockets = Math.max(total, first + count)
  const rooms = Math.max(2, Math.ceil(sockets * 2 / IDLE_MEMBERS_PER_ROOM))
  const perInstance = Math.ceil(sockets / ports.length)
  const startedAt = performance.timeOrigin + performance.now()
  const opened = await openMany(protocol, count, concurrency, (i) => {
    const g = first + i
    const a = g % rooms
    const b = (a + 1 + Math.floor(g / rooms)) % rooms
    const address = localAddress ?? `127.0.0.${2 + Math.floor(i / SOCKETS_PER_ADDRESS)}`
    return [ports[Math.floor(g / perInstance)], `idle${a}`, { alsoJoin: `idle${b === a ? (b + 1) % rooms : b}`, localAddress: address, timeoutMs: IDLE_OPEN_TIMEOUT_MS }]
  }, () => {})
  idleClients.push(...opened)
  const endedAt = performance.timeOrigin + performance.now()
  return { startedAt, endedAt, connectMs: endedAt - startedAt, sockets: opened.length, rooms }
}

/** Heartbeats (pings) this process's sockets answered so far. */
async function idlePings () {
  return { answered: heartbeats.answered }
}

async function idleClose () {
  for (const client of idleClients) client.close()
  idleClients = []
  await sleep(200)
  return {}
}

const commands = { setup, step, teardown, 'idle-open': idleOpen, 'idle-close': idleClose, 'idle-pings': idlePings, ...churnCommands(openMany, onDelivery, current) }

process.on('message', async (msg) => {
  try {
    const result = await commands[msg.cmd](msg)
    process.send({ id: msg.id, ok: true, result })
  } catch (err) {
    process.send({ id: msg.id, ok: false, error: err.stack ?? String(err) })
  }
})
// The harness is the only reason to live.
process.on('disconnect', () => process.exit(0))
// A message that arrives before the listener above exists is dropped: say when it does.
process.send({ ready: true })
