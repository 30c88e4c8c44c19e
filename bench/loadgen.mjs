/**
 * The load generator, in a process of its own, driven by the harness over IPC. Its main thread
 * holds the listeners of each target's fan-out topology (10 rooms x 100 listeners over the two
 * instances) and counts every delivery of the current step with its latency; a worker thread holds
 * the publishers (one more member per room) and sends at the offered rate. It also opens the idle
 * connections.
 *
 * Requests: { id, cmd: 'setup' | 'step' | 'teardown' | 'idle-open' | 'idle-close' | 'churn-*', ... };
 * each is answered { id, ok, result | error }.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import { Histogram } from './lib/histogram.mjs'
import { PROTOCOLS, nowUs } from './lib/clients.mjs'
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

/** Sockets per loopback source address: within one address's range of source ports. */
const SOCKETS_PER_ADDRESS = 20000
const IDLE_ROOMS = 1000

/**
 * Idle sockets on one instance, each joined to two of 1000 rooms, from 127.0.0.2, 127.0.0.3, ...
 * (20 000 per address); the time to have them all ready.
 */
async function idleOpen ({ protocol, port, count, concurrency }) {
  const started = performance.now()
  idleClients = await openMany(protocol, count, concurrency, (i) => {
    const a = i % IDLE_ROOMS
    const b = (a + 1 + Math.floor(i / IDLE_ROOMS)) % IDLE_ROOMS
    const localAddress = `127.0.0.${2 + Math.floor(i / SOCKETS_PER_ADDRESS)}`
    return [port, `idle${a}`, { alsoJoin: `idle${b === a ? (b + 1) % IDLE_ROOMS : b}`, localAddress }]
  }, () => {})
  return { connectMs: performance.now() - started, sockets: idleClients.length }
}

async function idleClose () {
  for (const client of idleClients) client.close()
  idleClients = []
  await sleep(200)
  return {}
}

const commands = { setup, step, teardown, 'idle-open': idleOpen, 'idle-close': idleClose, ...churnCommands(openMany, onDelivery, current) }

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
