#!/usr/bin/env node
// `npm test`: finds a Redis for the cluster tests (REDIS_URL, else 127.0.0.1:6379, else a
// throw-away redis-server on a free port), runs tap, and ends with one line that CI reads:
// `tests: N passed, N failed`. Extra arguments go to tap (e.g. a single test file).
import { spawn } from 'node:child_process'
import { createServer, connect } from 'node:net'
import { once } from 'node:events'

/** True when a Redis answers PING at host:port within a second. */
async function redisAnswers (host, port) {
  return new Promise(resolve => {
    const socket = connect({ host, port })
    const done = (ok) => { socket.destroy(); resolve(ok) }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')))
  })
}

async function freePort () {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await new Promise(resolve => server.close(resolve))
  return port
}

async function startRedis () {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  child.once('error', (err) => {
    console.error(`npm test: could not start redis-server (${err.message}); install it or set REDIS_URL`)
    process.exit(1)
  })
  for (let i = 0; i < 100; i++) {
    if (await redisAnswers('127.0.0.1', port)) return { url: `redis://127.0.0.1:${port}`, child }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  child.kill()
  throw new Error('npm test: redis-server did not answer on port ' + port)
}

let redisUrl = process.env.REDIS_URL
let redisChild = null
if (!redisUrl) {
  if (await redisAnswers('127.0.0.1', 6379)) {
    redisUrl = 'redis://127.0.0.1:6379'
  } else {
    ({ url: redisUrl, child: redisChild } = await startRedis())
    console.log(`npm test: started a throw-away redis-server at ${redisUrl}`)
  }
}

const tap = spawn('npx', ['tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, TEST_REDIS_URL: redisUrl }
})
let summary = null
let tail = ''
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString()).slice(-4096)
})
const [code] = await once(tap, 'close')
redisChild?.kill()

// tap's closing line: `# { total: 12, pass: 11, fail: 1, skip: 0 }`
const match = /# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/.exec(tail)
if (match) summary = { pass: Number(match[2] ?? 0), fail: Number(match[3] ?? 0) }
const passed = summary?.pass ?? 0
// A run that exits non-zero with no failed test (coverage gate, crash) still counts as a failure.
const failed = summary?.fail ?? 0
console.log(`tests: ${passed} passed, ${failed || (code === 0 ? 0 : 1)} failed`)
process.exit(code === 0 ? 0 : 1)
