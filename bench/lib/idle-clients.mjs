/**
 * The idle scenario's client side: as many load-generator processes as the file-descriptor limit
 * needs (each holds a descriptor per socket, so each takes at most SOCKETS_PER_CLIENT), all opening
 * their share at once, each from a loopback source address of its own. One source address has one
 * range of ephemeral ports (32768-60999 here, about 28 000) for all its connections, so one address
 * per process keeps every process inside its range.
 */
import { fdLimit } from './fd-limit.mjs'
import { startLoadgen } from './loadgen-client.mjs'
import { stop } from './proc.mjs'

/** Under the 20 000 descriptors of a process here, with room for its own, and under one address's ports. */
export const SOCKETS_PER_CLIENT = 18000

/** How many client processes `sockets` need: at least `wanted`. */
export function clientCount (sockets, wanted = 1) {
  const most = Math.max(1, Math.min(SOCKETS_PER_CLIENT, fdLimit() - 1000))
  return Math.max(wanted, Math.ceil(sockets / most))
}

/**
 * 127.0.0.2 .. 127.0.0.254 in turn over the whole run: a client closes its sockets first, so their
 * source ports wait in TIME_WAIT for a minute; the next target's sockets come from other addresses.
 */
let nextAddress = 0
const sourceAddress = () => `127.0.0.${2 + (nextAddress++ % 253)}`

/** The harness's load generator `lg` and `count - 1` more processes like it, once they listen. */
export async function startIdleClients (lg, count) {
  const clients = [lg, ...Array.from({ length: count - 1 }, () => startLoadgen())]
  await Promise.all(clients.map(client => client.ready))
  return clients
}

/** Stops the processes startIdleClients started (not `lg`, the harness's own). */
export async function stopIdleClients (clients) {
  await Promise.all(clients.slice(1).map(client => stop(client.child)))
}

/**
 * Opens `sockets` idle sockets over the instances on `ports`, split evenly over the clients, all
 * clients at once; the time to connect is from the first client's start to the last one's end
 * (each reads the same wall clock).
 */
export async function openIdle (clients, { protocol, ports, sockets, concurrency }) {
  const share = Math.ceil(sockets / clients.length)
  const opened = await Promise.all(clients.map((client, k) => client.ask('idle-open', {
    protocol,
    ports,
    total: sockets,
    first: k * share,
    count: Math.max(0, Math.min(share, sockets - k * share)),
    concurrency,
    localAddress: sourceAddress()
  })))
  const startedAt = Math.min(...opened.map(o => o.startedAt))
  const endedAt = Math.max(...opened.map(o => o.endedAt))
  return {
    connectMs: endedAt - startedAt,
    sockets: opened.reduce((a, o) => a + o.sockets, 0),
    rooms: opened[0].rooms
  }
}

/** Heartbeats answered so far by every client's sockets together. */
export async function heartbeatsAnswered (clients) {
  const counts = await Promise.all(clients.map(client => client.ask('idle-pings')))
  return counts.reduce((a, c) => a + c.answered, 0)
}

export async function closeIdle (clients) {
  await Promise.all(clients.map(client => client.ask('idle-close')))
}
