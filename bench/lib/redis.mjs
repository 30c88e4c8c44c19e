/**
 * The Redis the targets share: REDIS_URL if set, else the one answering on 127.0.0.1:6379, else
 * a throw-away redis-server on a free port, stopped with the run. A shared Redis is only ever
 * published to under this run's own channel prefix.
 */
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

/** Resolves to `{ url, child }`; `child` is set when this run started the server. */
export async function findOrStartRedis () {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, child: null }
  if (await pingRedis(6379)) return { url: 'redis://127.0.0.1:6379', child: null }
  const port = await freePort()
  const child = start('redis-server', 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'])
  for (let i = 0; i < 100; i++) {
    if (await pingRedis(port)) return { url: `redis://127.0.0.1:${port}`, child }
    if (child.exitCode !== null) break
    await sleep(50)
  }
  throw new Error(`redis-server did not answer on port ${port}: ${child.stderrTail}`)
}
