/**
 * Child processes of the harness and what /proc says about them: CPU time (utime + stime) and
 * resident memory. Every child is tracked and stopped on the way out, failures included.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const TICK_MS = 10 // USER_HZ is 100 on Linux
const children = new Set()

/** CPU time of a process in ms, user + system (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuMs (pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

/** CPU time in ms that the whole machine spent busy (all cores; /proc/stat minus idle and iowait). */
export function machineBusyMs () {
  const [, ...fields] = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/)
  const ticks = fields.slice(0, 8).map(Number) // user nice system idle iowait irq softirq steal
  return (ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4]) * TICK_MS
}

/** Resident set size in KiB (VmRSS of /proc/<pid>/status). */
export function rssKb (pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1')
  return Number(/VmRSS:\s+(\d+)/.exec(status)[1])
}

export async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portOpen (port) {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => resolve(false))
  })
}

export async function waitForPort (port, child, timeoutMs = 180000) { // a loaded machine takes long to start a server
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.label} exited with ${child.exitCode} before listening:\n${child.outputTail}`)
    if (await portOpen(port)) return
    await sleep(50)
  }
  throw new Error(`${child.label} did not listen on ${port} within ${timeoutMs} ms`)
}

/** Spawns a tracked child; its stderr tail is kept for error messages. */
export function start (label, command, args, { env = {}, ipc = false, cwd } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? ['ipc'] : [])]
  })
  child.label = label
  // The last of what it wrote, for error messages: the servers log warnings to stdout (pino).
  child.outputTail = ''
  const keep = (chunk) => { child.outputTail = (child.outputTail + chunk).slice(-4000) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  children.add(child)
  child.once('exit', () => children.delete(child))
  child.once('error', (err) => { child.outputTail += String(err) })
  return child
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stop (child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function stopAll () {
  await Promise.all([...children].map(child => stop(child)))
}

/** Last-resort cleanup for a harness that dies: no child may outlive it. */
export function killAllNow () {
  for (const child of children) child.kill('SIGKILL')
}
