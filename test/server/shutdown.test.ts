import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { Client, connect, listen } from '../helper.js'

/**
 * The app gives close handshakes half of SHUTDOWN_TIMEOUT_MS, then drops the sockets left: with a
 * peer that never answers, close takes that half, and the whole stays within the bound (the other
 * half is the slack a loaded machine gets for the rest of the close).
 */
const SHUTDOWN_TIMEOUT_MS = 4000

t.test('app.close() closes every socket with 1001 and reports not ready meanwhile', async t => {
  const { app, url, http } = await listen(t, { SHUTDOWN_TIMEOUT_MS })
  const a = await connect(t, `${url}/ws/general`)
  const b = await connect(t, `${url}/ws`)
  // a peer that never completes the close handshake must not hold the shutdown
  const stuck = await connect(t, `${url}/ws`)
  ;(stuck.ws as any)._socket.pause()
  const started = Date.now()
  const closing = app.close()
  t.equal(await a.closed, 1001)
  // the server still listens while the sockets close (inject refuses a closing app)
  const ready = await fetch(`${http}/ready`)
  t.equal(ready.status, 503)
  t.match(await ready.json(), { error: 'shutting_down', message: String })
  await closing
  const took = Date.now() - started
  t.ok(took >= SHUTDOWN_TIMEOUT_MS / 2 - 5, `the stuck peer held it for the handshakes' half (${took} ms)`)
  t.ok(took < SHUTDOWN_TIMEOUT_MS, `within SHUTDOWN_TIMEOUT_MS (${took} ms)`)
  t.equal(await b.closed, 1001)
})

t.test('SIGTERM: sockets get 1001 and the process exits 0', async t => {
  const server = fileURLToPath(new URL('../../dist/server.js', import.meta.url))
  const child = spawn(process.execPath, [server], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '3000' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) resolve(m[1])
    })
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)))
  })
  const ws = new WebSocket(`${address.replace('http', 'ws')}/api/chat-api/ws/general`)
  const client = new Client(ws)
  await client.next('welcome')
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(await client.closed, 1001)
  t.equal(code, 0)
  t.match(out, /shutting down/)
})

t.test('an invalid variable stops the server with a message naming it', async t => {
  const server = fileURLToPath(new URL('../../dist/server.js', import.meta.url))
  const child = spawn(process.execPath, [server], {
    env: { PATH: process.env.PATH, PORT: 'abc' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let err = ''
  child.stderr.on('data', (chunk) => { err += chunk })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.match(err, /invalid configuration: .*PORT must be integer/)
})

t.test('an unreachable REDIS_URL stops the server with "could not start"', async t => {
  const server = fileURLToPath(new URL('../../dist/server.js', import.meta.url))
  // port 1 on loopback: nothing listens, every connect is refused at once
  const child = spawn(process.execPath, [server], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', REDIS_URL: 'redis://127.0.0.1:1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let err = ''
  child.stderr.on('data', (chunk) => { err += chunk })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  // The redis plugin gives up before Fastify's plugin timeout, naming the variable and the cause.
  t.match(err, /chat-api: could not start: REDIS_URL: Redis did not answer within \d+ ms \(.*ECONNREFUSED.*\)/)
})
