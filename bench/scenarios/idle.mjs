/**
 * The idle scenario: many sockets over `instances` instances of each target (1 by default; 5 for
 * 100 000 sockets, which no one process can hold under a 20 000 descriptor limit), each socket in 2
 * rooms, doing nothing but answering heartbeats (at the default: WS_HEARTBEAT_MS 30 s for chat-api
 * and the floor, Socket.IO's own 25 s ping; chat-api also renews its presence leases every
 * PRESENCE_TTL_SEC/5). The sockets come from as many load-generator processes as the limit needs
 * (bench/lib/idle-clients.mjs), all opening at once. Reported per target, summed over its instances:
 * - RSS per socket: settled RSS after a full GC, with the sockets against without them;
 * - the time to connect them all: from the first client's start to the last socket ready;
 * - idle CPU over `idleCpuS` seconds (long enough to span a heartbeat round);
 * - heartbeat cost: the CPU the idle sockets add (idle CPU less the same instances' CPU before any
 *   socket opened, over EMPTY_CPU_S, scaled to the window) per heartbeat the clients answered in
 *   the window: CPU per socket per heartbeat round;
 * - Redis memory per socket: INFO memory used_memory with the sockets against without them.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuMs } from '../lib/proc.mjs'
import { fdCount, settledRssKb, startInstances, stopInstances } from '../lib/servers.mjs'
import { processFdLimit } from '../lib/fd-limit.mjs'
import { redisUsedMemory, removeKeys } from '../lib/redis-memory.mjs'
import { clientCount, closeIdle, heartbeatsAnswered, openIdle, startIdleClients, stopIdleClients } from '../lib/idle-clients.mjs'

/** The bench's targets turn heartbeats off for the fan-out; idle sockets get the service's default. */
const DEFAULT_HEARTBEAT = { WS_HEARTBEAT_MS: '30000' }
/** The instances' CPU with no socket, read over one of chat-api's presence beats (30 s / 5). */
const EMPTY_CPU_S = 6
/** Sockets each client process has opening at once. */
const CONCURRENCY = 200

const sum = (xs) => xs.reduce((a, b) => a + b, 0)
const cpuOf = (instances) => sum(instances.map(i => cpuMs(i.pid)))

/** Throws before opening anything when an instance's share would not fit its descriptor limit. */
function checkFds (instances, perInstance) {
  for (const instance of instances) {
    const limit = processFdLimit(instance.pid)
    const held = fdCount(instance)
    if (held + perInstance > limit) {
      throw new Error(`idle: ${perInstance} sockets per instance do not fit its limit of ${limit} open files ` +
        `(it holds ${held} already): use more --idle-instances`)
    }
  }
}

async function measure (run, name, instances, clients, { sockets, idleCpuS }) {
  const { redisUrl, log, protocolOf } = run
  const perInstance = Math.ceil(sockets / instances.length)
  checkFds(instances, perInstance)
  const baselineKb = sum(await Promise.all(instances.map(settledRssKb)))
  const cpuEmpty = cpuOf(instances)
  await sleep(EMPTY_CPU_S * 1000)
  const emptyCores = (cpuOf(instances) - cpuEmpty) / (EMPTY_CPU_S * 1000)
  const redisBefore = await redisUsedMemory(redisUrl)
  const ports = instances.map(i => i.port)
  const open = await openIdle(clients, { protocol: protocolOf(name), ports, sockets, concurrency: CONCURRENCY })
  const loadedKb = sum(await Promise.all(instances.map(settledRssKb)))
  const redisAfter = await redisUsedMemory(redisUrl)
  const maxFds = Math.max(...instances.map(fdCount))
  const perConnKb = (loadedKb - baselineKb) / sockets
  const pingsBefore = await heartbeatsAnswered(clients)
  const cpuBefore = cpuOf(instances)
  await sleep(idleCpuS * 1000)
  const idleCpuMs = cpuOf(instances) - cpuBefore
  const heartbeats = await heartbeatsAnswered(clients) - pingsBefore
  const idleCores = idleCpuMs / (idleCpuS * 1000)
  // What the sockets add to the instances' idle CPU, per heartbeat answered (none: the window was
  // shorter than the heartbeat interval).
  const heartbeatUs = heartbeats > 0 ? (idleCpuMs - emptyCores * idleCpuS * 1000) * 1000 / heartbeats : null
  const redisBytesPerSocket = (redisAfter - redisBefore) / sockets
  log(`${name}: ${sockets} idle sockets over ${instances.length} instance(s) from ${clients.length} client process(es) ` +
    `in ${Math.round(open.connectMs)} ms; RSS ${baselineKb} -> ${loadedKb} KiB, ${perConnKb.toFixed(2)} KiB/socket; ` +
    `${(idleCores * 100).toFixed(2)}% of a core idle (${(emptyCores * 100).toFixed(2)}% without sockets), ` +
    `${heartbeats} heartbeats, ${heartbeatUs === null ? 'n/a' : heartbeatUs.toFixed(2)} µs each; ` +
    `Redis ${redisBefore} -> ${redisAfter} B, ${redisBytesPerSocket.toFixed(0)} B/socket; at most ${maxFds} fds in an instance`)
  return {
    baselineKb,
    loadedKb,
    perConnKb,
    connectMs: open.connectMs,
    rooms: open.rooms,
    idleCores,
    emptyCores,
    heartbeats,
    heartbeatUs,
    redisBefore,
    redisAfter,
    redisBytesPerSocket,
    maxFds
  }
}

export async function idleScenario (run, { sockets, instances: instanceCount = 1, clients: wantedClients = 1, idleCpuS }) {
  const { lg, names, rounds, redisUrl, runId } = run
  const results = Object.fromEntries(names.map(n => [n, []]))
  const clients = await startIdleClients(lg, clientCount(sockets, wantedClients))
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of names) {
        const prefix = `${runId}-idle-${name}`
        const instances = await startInstances(name, instanceCount, { redisUrl, prefix, env: DEFAULT_HEARTBEAT })
        try {
          results[name].push(await measure(run, name, instances, clients, { sockets, idleCpuS }))
          await closeIdle(clients)
        } catch (err) {
          // What the servers said (warnings and errors) is the first thing to read when sockets fail.
          for (const { child } of instances) if (child.outputTail) run.log(`${child.label} output, last lines:\n${child.outputTail.split('\n').slice(-20).join('\n')}`)
          throw err
        } finally {
          await stopInstances(instances)
          await removeKeys(redisUrl, prefix)
        }
      }
    }
  } finally {
    await stopIdleClients(clients)
  }
  const rooms = Object.values(results).flat()[0]?.rooms ?? null
  return { sockets, instances: instanceCount, clients: clients.length, roomsPerSocket: 2, rooms, idleCpuS, targets: results }
}
