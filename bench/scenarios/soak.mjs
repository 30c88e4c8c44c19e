/**
 * `npm run bench -- --soak`: the churn scenario for `minutes` (10) at half of chat-api's churn peak,
 * in one-minute stretches. After each: the heap after a full GC and the open file descriptors of
 * each instance. A leak shows as a heap that keeps growing after the first minute (the goal: the
 * end within 5 % of minute one) or descriptors that do not come back to the start count once every
 * socket has closed.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { rssKb } from '../lib/proc.mjs'
import { fdCount, heapAfterGc, startInstances, stopInstances } from '../lib/servers.mjs'
import { churnStep, leftovers } from './churn.mjs'

const MINUTE_MS = 60_000

export async function soakScenario (run, { minutes, name = 'chat-api' }) {
  const { lg, redisUrl, runId, log, protocolOf } = run
  const instances = await startInstances(name, 2, { redisUrl, prefix: `${runId}-soak` })
  try {
    const startFds = instances.map(fdCount)
    await lg.ask('churn-listen', { target: name, protocol: protocolOf(name), ports: instances.map(i => i.port) })
    const peak = await churnStep(run, name, instances, { durationMs: 5000, concurrency: 50 })
    const rate = Math.max(1, Math.round(peak.cyclesPerSec / 2))
    log(`soak: churn peak ${Math.round(peak.cyclesPerSec)} connections/s over both instances; soaking at ${rate}/s for ${minutes} min`)
    const samples = []
    for (let minute = 1; minute <= minutes; minute++) {
      const s = await churnStep(run, name, instances, { durationMs: MINUTE_MS, rate })
      const heap = []
      for (const instance of instances) heap.push(await heapAfterGc(instance))
      const sample = {
        minute,
        cyclesPerSec: s.cyclesPerSec,
        failed: s.failed,
        skipped: s.skipped,
        listenersP99Ms: s.latencyMs.p99,
        heapBytes: heap,
        rssKb: instances.map(i => rssKb(i.pid)),
        fds: instances.map(fdCount)
      }
      log(`soak minute ${minute}: ${Math.round(s.cyclesPerSec)}/s, ${s.failed} failed, heap after GC ` +
        `${heap.map(h => (h / 1048576).toFixed(1)).join(' / ')} MiB, fds ${sample.fds.join(' / ')}`)
      samples.push(sample)
    }
    await lg.ask('churn-close', { target: name })
    await sleep(1000)
    const endFds = instances.map(fdCount)
    const first = samples[0].heapBytes
    const last = samples.at(-1).heapBytes
    const growth = last.map((h, i) => (h - first[i]) / first[i])
    return {
      minutes,
      rate,
      peakPerSec: peak.cyclesPerSec,
      samples,
      startFds,
      endFds,
      heapGrowth: growth,
      leftovers: await leftovers(instances, name),
      pass: growth.every(g => g <= 0.05) && endFds.every((f, i) => f <= startFds[i])
    }
  } finally {
    await stopInstances(instances)
  }
}
