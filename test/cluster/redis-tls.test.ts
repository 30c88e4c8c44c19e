/**
 * REDIS_TLS with REDIS_CLUSTER_NODES: a Redis Cluster node that speaks TLS only (no plain port)
 * and has `requirepass`, started by this file with a certificate made here. The service runs as
 * its own process (dist/server.js) so that NODE_EXTRA_CA_CERTS, read by Node at start, makes it
 * trust that certificate, as an operator with a private CA would. Without REDIS_TLS the same
 * configuration cannot start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import WebSocket from 'ws'
import { Client, eventually } from '../helper.js'
import { freePort, uniquePrefix } from '../redis-helper.js'

const PASSWORD = 'tls-redis-password-0123456789'
const SERVER = fileURLToPath(new URL('../../dist/server.js', import.meta.url))

function run (command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stdout}${result.stderr}`)
  return result.stdout
}

/** A one-node Redis Cluster on a TLS port only, owning every slot. */
async function tlsClusterNode (t: Test, dir: string, cert: string, key: string): Promise<number> {
  const port = await freePort()
  const child = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no',
    '--cluster-enabled', 'yes', '--tls-cluster', 'yes', '--cluster-port', String(await freePort()),
    '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1', '--requirepass', PASSWORD
  ], { stdio: 'ignore' })
  t.teardown(() => { child.kill('SIGKILL') })
  const cli = (...args: string[]) => run('redis-cli', ['--tls', '--cacert', cert, '-p', String(port), '--no-auth-warning', '-a', PASSWORD, ...args])
  await eventually(() => { try { return cli('PING').includes('PONG') } catch { return false } }, 10_000)
  cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  await eventually(() => cli('CLUSTER', 'INFO').includes('cluster_state:ok'), 10_000)
  return port
}

/** dist/server.js with `env`; resolves with its HTTP address once it listens, or with its exit code. */
async function startServer (t: Test, env: Record<string, string>): Promise<{ child: ChildProcess, address: string | null, code: number | null, log: string }> {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let log = ''
  return await new Promise(resolve => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString()
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log)
      if (m !== null) resolve({ child, address: m[1], code: null, log })
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => resolve({ child, address: null, code, log }))
  })
}

t.test('REDIS_TLS: the service stores and delivers through a TLS-only Redis Cluster with a password', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const cert = join(dir, 'cert.pem')
  const key = join(dir, 'key.pem')
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
  const port = await tlsClusterNode(t, dir, cert, key)
  const env = { REDIS_CLUSTER_NODES: `127.0.0.1:${port}`, REDIS_PASSWORD: PASSWORD, REDIS_CHANNEL_PREFIX: uniquePrefix(), NODE_EXTRA_CA_CERTS: cert }

  const plain = await startServer(t, env)
  t.equal(plain.address, null, 'without REDIS_TLS it does not start')
  t.equal(plain.code, 1)
  t.match(plain.log, /REDIS_CLUSTER_NODES/)

  const server = await startServer(t, { ...env, REDIS_TLS: 'true' })
  t.ok(server.address !== null, `with REDIS_TLS it starts: ${server.address === null ? server.log : 'listening'}`)
  if (server.address === null) return
  const ready = await fetch(`${server.address}/api/chat-api/ready`)
  t.equal(ready.status, 200)
  const client = new Client(new WebSocket(`${server.address.replace('http', 'ws')}/api/chat-api/ws/r`))
  t.teardown(() => client.ws.terminate())
  await client.next('welcome')
  t.match(await client.request({ type: 'message', room: 'r', data: 'over TLS' }), { type: 'ack', offset: 1 })
  t.match(await client.next('message'), { data: 'over TLS', offset: 1 })
  await client.close()
  server.child.kill('SIGTERM')
  await once(server.child, 'exit')
})
