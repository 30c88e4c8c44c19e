/**
 * The Redis the targets share: REDIS_URL if set, else the one answering on 127.0.0.1:6379, else
 * a throw-away redis-server on a free port, stopped with the run. A shared Redis is only ever
 * published to under this run's own channel prefix.
 */
import { spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort, start } from './proc.mjs'

function pingRedis (port) {
  return new Promise(resolve => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

/**
 * The CPU time Redis has used so far (INFO cpu: used_cpu_user + used_cpu_sys), in ms. With a
 * Redis of the run's own, deltas around a step are the Redis work of that step alone.
 */
export async function redisCpuMs (url) {
  const { hostname, port } = new URL(url)
  const cpu = await info(hostname, Number(port || 6379), 'cpu')
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)[1])
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000
}

/**
 * Resolves to `{ url, child }`; `child` is set when this run started the server. A run starts its
 * own redis-server unless REDIS_URL is set, so that Redis CPU per message counts this run alone;
 * without the binary it falls back to a Redis on 127.0.0.1:6379.
 */
export async function findOrStartRedis () {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, child: null }
  if (!hasRedisServer() && await pingRedis(6379)) return { url: 'redis://127.0.0.1:6379', child: null }
  const { url, child } = await startRedisServer()
  return { url, child }
}

/**
 * A redis-server of this run only, on a free port, persisting nothing (what a replica's sync needs
 * goes to /tmp); `args` are added to its command line (`--replicaof`, ...). Resolves to
 * `{ port, url, child }` once it answers PING; `child` is tracked by proc.mjs.
 */
export async function startRedisServer (args = []) {
  const port = await freePort()
  const child = start('redis-server', 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp', ...args])
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(port)) return { port, url: `redis://127.0.0.1:${port}`, child }
    if (child.exitCode !== null) break
    await sleep(50)
  }
  throw new Error(`redis-server did not answer on port ${port}: ${child.outputTail}`)
}

/**
 * A replica of the Redis at `url`, started on a free port; resolves once its link to the master is
 * up (INFO replication's master_link_status), so that the first `WAIT` of a target already finds it.
 */
export async function startReplica (url) {
  const { hostname, port } = new URL(url)
  const replica = await startRedisServer(['--replicaof', hostname, String(port || 6379)])
  for (let i = 0; i < 200; i++) {
    if (/master_link_status:up/.test(await info('127.0.0.1', replica.port, 'replication'))) return replica
    await sleep(50)
  }
  replica.child.kill('SIGKILL')
  throw new Error(`the replica on port ${replica.port} did not sync with ${url} within 10 s`)
}

/** One INFO section of the Redis at `host`:`port`, as text, over a connection of its own. */
function info (host, port, section) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let reply = ''
    socket.setTimeout(2000, () => { socket.destroy(); reject(new Error(`INFO ${section} timed out`)) })
    socket.once('error', reject)
    socket.once('connect', () => socket.write(`INFO ${section}\r\n`))
    socket.on('data', (data) => {
      reply += data.toString()
      // A bulk string: `$<length>\r\n<text>\r\n`.
      const header = /^\$(\d+)\r\n/.exec(reply)
      if (header && reply.length >= header[0].length + Number(header[1]) + 2) {
        socket.destroy()
        resolve(reply.slice(header[0].length, header[0].length + Number(header[1])))
      }
    })
  })
}

function hasRedisServer () {
  return spawnSync('redis-server', ['--version']).status === 0
}
