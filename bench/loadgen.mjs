/**
 * The load generator, in a process of its own, driven by the harness over IPC. It holds the
 * fan-out topology of each target (10 rooms x 100 members over two instances, the first member of
 * each room also its publisher), publishes at an offered rate for one step, and counts every
 * delivery of that step with its latency. It also opens the idle connections.
 *
 * Requests: { id, cmd: 'setup' | 'step' | 'teardown' | 'idle-open' | 'idle-close', ... };
 * each is answered { id, ok, result | error }.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { Histogram } from './lib/histogram.mjs'
import { PROTOCOLS, makeData, nowUs } from './lib/clients.mjs'

const topologies = new Map()
let idleClients = []

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

/** Opens `count` sockets `concurrency` at a time; `spec(i)` gives [port, room] of the i-th. */
async function openMany (protocol, count, concurrency, spec, onMessage) {
  const Client = PROTOCOLS[protocol]
  const clients = new Array(count)
  let next = 0
  async function worker () {
    while (next < count) {
      const i = next++
      const [port, room] = spec(i)
      clients[i] = await Client.open(port, room, onMessage)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker))
  return clients
}

async function setup ({ target, protocol, ports, rooms, members }) {
  const started = performance.now()
  // Member j of room k sits on instance (j + k) % 2: each room is split evenly across the two,
  // and member 0, the publisher, alternates between them from room to room.
  const clients = await openMany(protocol, rooms * members, 50,
    (i) => {
      const k = Math.floor(i / members)
      const j = i % members
      return [ports[(j + k) % ports.length], `r${k}`]
    }, onDelivery)
  const publishers = clients.filter((_, i) => i % members === 0)
  topologies.set(target, { clients, publishers, members })
  return { connectMs: performance.now() - started, sockets: clients.length }
}

/**
 * Publishes `rate` messages/s for `durationMs`, spread round-robin over the rooms, then waits up to
 * `graceMs` for the last deliveries. Each millisecond tick sends what is due, one write per room.
 */
async function step ({ target, rate, durationMs, graceMs, stepId }) {
  const { publishers, members } = topologies.get(target)
  current.step = stepId
  current.delivered = 0
  current.stale = 0
  current.hist = new Histogram()
  const total = Math.round(rate * durationMs / 1000)
  const rooms = publishers.length
  const batches = publishers.map(() => [])
  let sent = 0
  let maxLagMs = 0
  const t0 = performance.now()
  while (sent < total) {
    const elapsed = performance.now() - t0
    const due = Math.min(total, Math.floor(rate * elapsed / 1000))
    maxLagMs = Math.max(maxLagMs, (due - sent) / rate * 1000)
    const stamp = nowUs()
    for (; sent < due; sent++) batches[sent % rooms].push(makeData(stepId, stamp))
    for (let r = 0; r < rooms; r++) {
      if (batches[r].length === 0) continue
      publishers[r].publish(batches[r])
      batches[r] = []
    }
    await sleep(1)
  }
  const publishMs = performance.now() - t0
  const expected = total * members
  const waitStart = performance.now()
  while (current.delivered < expected && performance.now() - waitStart < graceMs) await sleep(5)
  const delivered = current.delivered
  current.step = -1
  return {
    published: total,
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
  await sleep(200)
  return {}
}

/** Idle sockets on one instance, each joined to one of 100 rooms; the time to have them all ready. */
async function idleOpen ({ protocol, port, count, concurrency }) {
  const started = performance.now()
  idleClients = await openMany(protocol, count, concurrency, (i) => [port, `idle${i % 100}`], () => {})
  return { connectMs: performance.now() - started, sockets: idleClients.length }
}

async function idleClose () {
  for (const client of idleClients) client.close()
  idleClients = []
  await sleep(200)
  return {}
}

const commands = { setup, step, teardown, 'idle-open': idleOpen, 'idle-close': idleClose }

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
