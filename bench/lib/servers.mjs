/** Starting and stopping the instances of a target, and reading their memory after a GC. */
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { command, ROOT } from './targets.mjs'
import { freePort, rssKb, start, stop, waitForPort } from './proc.mjs'

/** Starts `count` instances of `name` on free ports; resolves once all listen. */
export async function startInstances (name, count, { redisUrl, redisEnv, prefix, nodeFlags }) {
  const instances = []
  for (let i = 0; i < count; i++) {
    const port = await freePort()
    const [cmd, args, env] = command(name, { port, redisUrl, redisEnv, prefix, nodeFlags })
    const child = start(`${name}#${i}`, cmd, args, { env, ipc: true, cwd: ROOT })
    instances.push({ child, port, pid: child.pid })
  }
  await Promise.all(instances.map(({ port, child }) => waitForPort(port, child)))
  return instances
}

export async function stopInstances (instances) {
  await Promise.all(instances.map(({ child }) => stop(child, 5000)))
}

/** Full GC in the server, then VmRSS once it stops moving (two reads within 0.5%, or 5 s). */
export async function settledRssKb (instance) {
  const { child, pid } = instance
  const done = once(child, 'message')
  child.send('gc')
  await done
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
