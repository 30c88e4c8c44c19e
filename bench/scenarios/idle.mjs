/**
 * The idle scenario: many sockets on one instance, each in 2 rooms, doing nothing but answering
 * heartbeats (at the default: WS_HEARTBEAT_MS 30 s for chat-api and the floor, Socket.IO's own 25 s
 * ping). Reports the time to connect them all, RSS per socket after a GC, and the server's CPU
 * while they sit idle over `idleCpuS` seconds (long enough to span a heartbeat round).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { cpuMs } from '../lib/proc.mjs'
import { settledRssKb, startInstances, stopInstances } from '../lib/servers.mjs'

/** The bench's targets turn heartbeats off for the fan-out; idle sockets get the service's default. */
const DEFAULT_HEARTBEAT = { WS_HEARTBEAT_MS: '30000' }

export async function idleScenario (run, { sockets, idleCpuS }) {
  const { lg, names, rounds, redisUrl, runId, log, protocolOf } = run
  const results = Object.fromEntries(names.map(n => [n, []]))
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const [instance] = await startInstances(name, 1, { redisUrl, prefix: `${runId}-idle-${name}`, env: DEFAULT_HEARTBEAT })
      try {
        const baselineKb = await settledRssKb(instance)
        const open = await lg.ask('idle-open', { protocol: protocolOf(name), port: instance.port, count: sockets, concurrency: 200 })
        const loadedKb = await settledRssKb(instance)
        const perConnKb = (loadedKb - baselineKb) / sockets
        const cpuBefore = cpuMs(instance.pid)
        await sleep(idleCpuS * 1000)
        const idleCores = (cpuMs(instance.pid) - cpuBefore) / (idleCpuS * 1000)
        log(`${name}: ${sockets} idle sockets in ${Math.round(open.connectMs)} ms, RSS ${baselineKb} -> ${loadedKb} KiB, ` +
          `${perConnKb.toFixed(2)} KiB/socket, ${(idleCores * 100).toFixed(2)}% of a core while idle`)
        results[name].push({ baselineKb, loadedKb, perConnKb, connectMs: open.connectMs, idleCores })
        await lg.ask('idle-close')
      } finally {
        await stopInstances([instance])
      }
    }
  }
  return { sockets, roomsPerSocket: 2, idleCpuS, targets: results }
}
