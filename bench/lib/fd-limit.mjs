/**
 * The idle scenario needs a descriptor per socket in the server and in the load generator, more
 * than the usual soft limit (1 024 or 20 000). Node cannot set its own limit, so the bench starts
 * itself again under a shell that raised it (as high as the hard limit allows; as root, higher),
 * and every process it starts inherits that. The service itself is never changed.
 */
import { spawnSync } from 'node:child_process'

const WANTED = 1048576
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
