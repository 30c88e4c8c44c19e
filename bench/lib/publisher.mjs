/**
 * The publishers of the load generator, in a worker thread of their own: the main thread spends
 * most of its time reading deliveries, and a publisher sharing its event loop would send in bursts
 * each time a long read finished, which the latency figures would then mostly measure. Here each
 * 1 ms tick sends what is due, one write per room.
 *
 * Messages from the main thread: { id, cmd: 'setup' | 'step' | 'teardown', ... }, answered
 * { id, ok, result | error }.
 */
import { parentPort } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import { PROTOCOLS, makeData, nowUs } from './clients.mjs'

const publishers = new Map()

async function setup ({ target, protocol, ports, rooms }) {
  const Client = PROTOCOLS[protocol]
  // The publisher of room k sits on instance k % 2; its own copies of the messages are not counted.
  // Opened 100 at a time: thousands of simultaneous upgrades would only measure the accept queue.
  const list = []
  for (let k = 0; k < rooms; k += 100) {
    const batch = Array.from({ length: Math.min(100, rooms - k) }, (_, j) => Client.open(ports[(k + j) % ports.length], `r${k + j}`, () => {}))
    list.push(...await Promise.all(batch))
  }
  publishers.set(target, list)
  return {}
}

/** Publishes `rate` messages/s for `durationMs`, round-robin over the rooms. */
async function step ({ target, rate, durationMs, stepId }) {
  const list = publishers.get(target)
  const rooms = list.length
  const total = Math.round(rate * durationMs / 1000)
  const batches = list.map(() => [])
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
      list[r].publish(batches[r])
      batches[r] = []
    }
    await sleep(1)
  }
  return { published: total, publishMs: performance.now() - t0, maxLagMs }
}

async function teardown ({ target }) {
  for (const client of publishers.get(target) ?? []) client.close()
  publishers.delete(target)
  return {}
}

const commands = { setup, step, teardown }
parentPort.on('message', async (msg) => {
  try {
    parentPort.postMessage({ id: msg.id, ok: true, result: await commands[msg.cmd](msg) })
  } catch (err) {
    parentPort.postMessage({ id: msg.id, ok: false, error: err.stack ?? String(err) })
  }
})
