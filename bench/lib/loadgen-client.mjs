/** The harness's end of the load generator: a child process answering requests over IPC. */
import { fileURLToPath } from 'node:url'
import { start } from './proc.mjs'

const LOADGEN = fileURLToPath(new URL('../loadgen.mjs', import.meta.url))

export function startLoadgen () {
  const child = start('loadgen', process.execPath, [LOADGEN], { ipc: true })
  const pending = new Map()
  let nextId = 0
  let isReady
  const ready = new Promise((resolve, reject) => {
    isReady = resolve
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code} before it was ready: ${child.outputTail}`)))
  })
  ready.catch(() => {}) // a caller that never waits for it learns of the exit from its request
  child.on('message', (msg) => {
    if (msg.ready === true) return isReady()
    const waiter = pending.get(msg.id)
    pending.delete(msg.id)
    if (msg.ok) waiter?.resolve(msg.result)
    else waiter?.reject(new Error(`load generator: ${msg.error}`))
  })
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`load generator exited with ${code}: ${child.outputTail}`))
    pending.clear()
  })
  return {
    child,
    pid: child.pid,
    /** Resolves once the process listens for requests (one sent before would be lost). */
    ready,
    ask (cmd, args = {}) {
      return new Promise((resolve, reject) => {
        const id = ++nextId
        pending.set(id, { resolve, reject })
        child.send({ id, cmd, ...args })
      })
    }
  }
}
