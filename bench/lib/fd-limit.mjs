/**
 * The idle scenario needs a descriptor per socket in the server and in the load generator, more
 * than the usual soft limit (1 024 or 20 000). Node cannot set its own limit, so the bench starts
 * itself again under a shell that raised it (the soft limit to the hard one; as root with
 * CAP_SYS_RESOURCE, the hard one too), and every process it starts, instances and load generators,
 * inherits that. The service itself is never changed. Past the hard limit the idle scenario spreads
 * its sockets over several instances and several load-generator processes (`--idle-instances`).
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const WANTED = 1048576
/**
 * Descriptors a server holds besides its sockets (stdio, IPC, epoll, its Redis connections, the
 * listener, ...), with room to spare: an instance takes at most its limit less this many sockets.
 */
export const SERVER_OWN_FDS = 100
const MARK = 'CHAT_API_BENCH_FD_RAISED'

const shell = (script) => spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout.trim()

/** This process's soft limit on open files. */
export function fdLimit () {
  const text = shell('ulimit -n')
  return text === 'unlimited' ? WANTED : Number(text)
}

/**
 * Re-runs the bench under the highest limit it can get, when that is higher than now; true when it
 * did (the caller then stops: the child did the run, and its exit code is ours).
 */
export function raiseFdLimit () {
  if (process.env[MARK] !== undefined) return false
  const raise = `ulimit -Hn ${WANTED} 2>/dev/null; ulimit -n "$(ulimit -Hn)" 2>/dev/null`
  const reachable = Number(shell(`${raise}; ulimit -n`).replace('unlimited', String(WANTED)))
  if (!(reachable > fdLimit())) return false
  const child = spawnSync('sh', ['-c', `${raise}; exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: String(reachable) }
  })
  process.exitCode = child.status ?? 1
  return true
}

/** The soft limit on open files of a running process (`Max open files` in /proc/<pid>/limits). */
export function processFdLimit (pid) {
  const line = readFileSync(`/proc/${pid}/limits`, 'latin1').split('\n').find(l => l.startsWith('Max open files'))
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
  return soft === undefined || soft === 'unlimited' ? WANTED : Number(soft)
}
