/** Starting and stopping the instances of a target, and reading their memory after a GC. */
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { command, needsReplica, ROOT } from './targets.mjs'
import { freePort, rssKb, start, stop, waitForPort } from './proc.mjs'
import { startReplica } from './redis.mjs'

/**
 * Starts `count` instances of `name` on free ports; resolves once all listen. `redisEnv` replaces
 * REDIS_URL (a cluster, say); `env` is added to the target's.
 */
export async function startInstances (name, count, { redisUrl, redisEnv, prefix, nodeFlags, env: extraEnv = {} }) {
  const instances = []
  // Started first and stopped with them: the replica a durable target's WAITs count.
  if (needsReplica(name)) instances.replica = (await startReplica(redisUrl)).child
  for (let i = 0; i < count; i++) {
    const port = await freePort()
    const [cmd, args, targetEnv] = command(name, { port, redisUrl, redisEnv, prefix, nodeFlags })
    const env = { ...targetEnv, ...extraEnv }
    const child = start(`${name}#${i}`, cmd, args, { env, ipc: true, cwd: ROOT })
    instances.push({ child, port, pid: child.pid })
  }
  await Promise.all(instances.map(({ port, child }) => waitForPort(port, child)))
  return instances
}

export async function stopInstances (instances) {
  await Promise.all(instances.map(({ child }) => stop(child, 5000)))
  if (instances.replica) await stop(instances.replica)
}

/** Sends the server's preload (preload.mjs) one request; resolves with its answer, rejects with its error. */
async function askPreload ({ child }, msg) {
  const done = once(child, 'message')
  child.send(msg)
  const [reply] = await done
  if (reply.error) throw new Error(reply.error)
  return reply
}

/** Full GC in the server; resolves with its heap used after it, in bytes. */
export async function heapAfterGc (instance) {
  return (await askPreload(instance, 'gc')).heapUsed
}

/** A heap snapshot of the server after a full GC, written to `file`. */
export async function heapSnapshot (instance, file) {
  await askPreload(instance, { snapshot: file })
}

/** Asks the server's preload to start or stop (writing `file`) a CPU profile; resolves with its answer. */
export function profileCommand (instance, msg) {
  return askPreload(instance, msg)
}

/** Open file descriptors of a process. */
export function fdCount ({ pid }) {
  return readdirSync(`/proc/${pid}/fd`).length
}

/** Full GC in the server, then VmRSS once it stops moving (two reads within 0.5%, or 5 s). */
export async function settledRssKb (instance) {
  const { pid } = instance
  await heapAfterGc(instance)
  let last = rssKb(pid)
  let steady = 0
  for (let i = 0; i < 20 && steady < 2; i++) {
    await sleep(250)
    const now = rssKb(pid)
    steady = Math.abs(now - last) <= last * 0.005 ? steady + 1 : 0
    last = now
  }
  return last
}
